"""The restore rehearsal (deploy/backup_check.py) passes on a faithful copy and reports every way
a copy can differ from its source: rows, values, money, stock, schema, sequences, the served
store. Its databases are made beside the suite's own, named after it, and dropped after."""

import dataclasses
import functools
import http.server
import re
import shutil
import threading
import urllib.parse
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from deploy import backup_check as bc

PRODUCTS = 12  # enough for the seeded orders' four simple products in stock, and quick


@pytest.fixture(scope="module")
def rehearsal(django_db_setup, tmp_path_factory):
    """A store seeded by the check in its own database, dumped, and restored into another."""
    db = connection.settings_dict
    password = f":{urllib.parse.quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    server = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}"
    prefix = f"{db['NAME']}_backup"
    work = tmp_path_factory.mktemp("backup-check")
    names = [f"{prefix}_source", f"{prefix}_copy"]
    for name in names:
        bc.database_create(server, name)
    try:
        source_url, copy_url = (bc.database_url(server, name) for name in names)
        common = {"secret_key": "backup-check-test-" + "x" * 40, "media_root": str(work / "media")}
        expect = bc.seed(
            bc.store_env(database_url=source_url, DEBUG="true", PAYMENT_BACKEND="local", **common),
            products=PRODUCTS,
            work=work,
        )
        bc.dump(source_url, work / "store.dump")
        bc.restore(work / "store.dump", copy_url, jobs=2)
        with bc.connect(source_url) as conn:
            source = bc.store_figures(conn)
        yield SimpleNamespace(
            server=server,
            prefix=prefix,
            copy_url=copy_url,
            source=source,
            expect=expect,
            common=common,
            work=work,
        )
    finally:
        for name in names:
            bc.database_drop(server, name)


def copy_figures_after(rehearsal, alteration):
    """The copy's figures with `alteration` (SQL, or a function of the connection) applied, and
    rolled back after: each case starts from the faithful copy."""
    with bc.connect(rehearsal.copy_url) as conn, conn.transaction(force_rollback=True):
        if callable(alteration):
            alteration(conn)
        else:
            conn.execute(alteration)
        return bc.store_figures(conn)


def test_a_restored_dump_matches_its_source_in_every_figure(rehearsal):
    source = rehearsal.source
    copy = copy_figures_after(rehearsal, "SELECT 1")

    assert bc.compare(source, copy) == []
    assert bc.unseeded(source) == []
    # The seeded store is what the check says it makes: eight orders, five of them paid, two
    # refunds, and every kind of figure is there to compare.
    assert source["orders (count, sum of totals)"].startswith("8, ")
    assert source["payments captured (count, amount)"].startswith("5, ")
    assert source["refunds made (count, amount)"].startswith("2, ")
    assert source["rows of orders_orderevent"] != "0"
    assert "orders_order_pkey" in source["indexes of orders_order"]
    assert "orders_order_pkey" in source["constraints of orders_order"]
    assert source["sequence orders_order_id_seq"] == "8"
    assert source["orders by status"] == (
        "cancelled 1, delivered 1, paid 3, payment_failed 1, pending_payment 1, refunded 1"
    )


def test_the_comparison_lists_every_difference(rehearsal):
    def stock_and_refund_changed(conn):
        conn.execute("UPDATE catalog_productvariant SET stock = stock + 1")
        conn.execute("UPDATE payments_refund SET amount = amount + 0.01")

    with (
        bc.connect(rehearsal.copy_url) as source,
        bc.connect(rehearsal.copy_url) as copy,
        copy.transaction(force_rollback=True),
    ):
        stock_and_refund_changed(copy)
        with pytest.raises(bc.CheckFailed) as failed:
            bc.copy_verified(source, copy)

    stock = rehearsal.source["stock on hand (variants, units)"]
    variants, units = (int(part) for part in stock.split(", "))
    refunds = rehearsal.source["refunds made (count, amount)"]
    count, amount = refunds.split(", ")
    assert str(failed.value) == (
        "the restored copy differs from its source in 4 figure(s):\n"
        "  content of catalog_productvariant: the rows differ\n"
        "  content of payments_refund: the rows differ\n"
        f"  refunds made (count, amount): {refunds} in the source, "
        f"{count}, {Decimal(amount) + Decimal('0.02')} in the copy\n"
        f"  stock on hand (variants, units): {stock} in the source, "
        f"{variants}, {units + variants} in the copy"
    )


def test_a_source_with_nothing_refunded_proves_too_little(rehearsal):
    with bc.connect(rehearsal.copy_url) as conn, conn.transaction(force_rollback=True):
        conn.execute("DELETE FROM payments_refundline")
        conn.execute("DELETE FROM payments_refund")
        with pytest.raises(bc.CheckFailed) as failed:
            bc.copy_verified(conn, conn)

    assert str(failed.value) == "the seeded store has nothing in refunds made (count, amount)"


def first_index_without_constraint(conn):
    name = conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'orders_order' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname LIMIT 1"
    ).fetchone()[0]
    conn.execute(f'DROP INDEX "{name}"')


def first_check_constraint(conn):
    name = conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'orders_order'::regclass "
        "AND contype = 'c' ORDER BY conname LIMIT 1"
    ).fetchone()[0]
    conn.execute(f'ALTER TABLE orders_order DROP CONSTRAINT "{name}"')


ALTERATIONS = {
    "stock changed": (
        "UPDATE catalog_productvariant SET stock = stock + 1 "
        "WHERE id = (SELECT min(id) FROM catalog_productvariant)",
        ["content of catalog_productvariant", "stock on hand (variants, units)"],
    ),
    "order total changed": (
        "UPDATE orders_order SET shipping = shipping + 1, total = total + 1 "
        "WHERE id = (SELECT min(id) FROM orders_order)",
        ["content of orders_order", "orders (count, sum of totals)"],
    ),
    "order line lost": (
        # Without the foreign keys' triggers, as a damaged restore would have it.
        "SET LOCAL session_replication_role = replica; "
        "DELETE FROM orders_orderitem WHERE id = (SELECT min(id) FROM orders_orderitem)",
        [
            "rows of orders_orderitem",
            "content of orders_orderitem",
            "order lines (units, sum of line totals)",
        ],
    ),
    "payment changed": (
        "UPDATE payments_payment SET amount = amount + 1 "
        "WHERE id = (SELECT min(id) FROM payments_payment WHERE status = 'paid')",
        ["content of payments_payment", "payments captured (count, amount)"],
    ),
    "refund changed": (
        "UPDATE payments_refund SET amount = amount - 0.01 "
        "WHERE id = (SELECT min(id) FROM payments_refund WHERE state = 'succeeded')",
        ["content of payments_refund", "refunds made (count, amount)"],
    ),
    "timeline entry lost": (
        "DELETE FROM orders_orderevent WHERE id = (SELECT max(id) FROM orders_orderevent)",
        ["rows of orders_orderevent", "content of orders_orderevent"],
    ),
    "order status changed": (
        "UPDATE orders_order SET status = 'paid' WHERE status = 'pending_payment'",
        ["content of orders_order", "orders by status"],
    ),
    "index lost": (first_index_without_constraint, ["indexes of orders_order"]),
    "constraint lost": (first_check_constraint, ["constraints of orders_order"]),
    "sequence behind": (
        "ALTER SEQUENCE orders_order_id_seq RESTART WITH 1",
        ["sequence orders_order_id_seq"],
    ),
    "table lost": (
        "DROP TABLE django_session",
        [
            "rows of django_session",
            "content of django_session",
            "indexes of django_session",
            "constraints of django_session",
        ],
    ),
    "table added": ("CREATE TABLE stray (id int)", ["rows of stray", "content of stray"]),
}


@pytest.mark.parametrize(("alteration", "reported"), ALTERATIONS.values(), ids=list(ALTERATIONS))
def test_a_copy_that_differs_from_its_source_is_reported(rehearsal, alteration, reported):
    copy = copy_figures_after(rehearsal, alteration)

    assert [mismatch.figure for mismatch in bc.compare(rehearsal.source, copy)] == reported


def test_a_mismatch_says_what_the_source_and_the_copy_hold():
    assert str(bc.Mismatch("refunds made (count, amount)", "2, 30.00", "2, 29.99")) == (
        "refunds made (count, amount): 2, 30.00 in the source, 2, 29.99 in the copy"
    )
    assert str(bc.Mismatch("content of orders_order", "a1", "b2")) == (
        "content of orders_order: the rows differ"
    )
    assert str(bc.Mismatch("rows of stray", None, "0")) == "rows of stray: in the copy only"
    assert str(bc.Mismatch("rows of django_session", "3", None)) == (
        "rows of django_session: in the source, missing from the copy"
    )


def test_a_store_with_nothing_to_compare_is_refused(rehearsal):
    unrefunded = {**rehearsal.source, "refunds made (count, amount)": "0, 0"}
    empty = {**rehearsal.source, "stock on hand (variants, units)": "63, 0"}

    assert bc.unseeded(unrefunded) == ["refunds made (count, amount)"]
    assert bc.unseeded(empty) == ["stock on hand (variants, units)"]


# --- The store served from the copy ------------------------------------------------------------


@pytest.fixture(scope="module")
def store_on_copy(rehearsal):
    env = bc.server_env(
        database_url=rehearsal.copy_url,
        redis_url=settings.CACHES["default"]["LOCATION"],
        **rehearsal.common,
    )
    with bc.Store(env, rehearsal.work / "gunicorn.log") as store:
        yield store.base


def test_the_store_on_the_copy_shows_the_product_and_the_guest_order(rehearsal, store_on_copy):
    expect = rehearsal.expect

    passed = bc.check_store(store_on_copy, expect)

    assert passed == [
        "/healthz answers ok",
        "/readyz: the store reads the copy",
        f"the product page {expect.product_path} shows {expect.product_name}, "
        f"{expect.product_price}",
        f"the guest's order {expect.order_number} shows its total {expect.order_total} and its "
        f"line {expect.order_item}",
    ]


def tampered(link):
    """The guest link with its signature's last character changed."""
    token = link.rstrip("/")
    return f"{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/"


MISSING = {
    "product page gone": (
        {"product_path": "/products/no-such-product/"},
        "the product page /products/no-such-product/ answered 404, not 200",
    ),
    "product name": (
        {"product_name": "Nothing Like It"},
        "does not show the product's name 'Nothing Like It'",
    ),
    "product price": ({"product_price": "$0.01"}, "does not show the product's price '$0.01'"),
    "guest link": ({"order_link": tampered}, "answered 404 to '', not a redirect to /orders/"),
    "order number": ({"order_number": "AAAAA-AAAAA"}, "not a redirect to /orders/AAAAA-AAAAA/"),
    "order total": ({"order_total": "$0.01"}, "answered 200 without its total '$0.01'"),
    "order line": (
        {"order_item": "Nothing Like It", "order_total": "$0.02"},
        "answered 200 without its total '$0.02' and line 'Nothing Like It'",
    ),
}


@pytest.mark.parametrize(("changes", "message"), MISSING.values(), ids=list(MISSING))
def test_a_copy_that_lacks_what_the_source_showed_fails_the_check(
    rehearsal, store_on_copy, changes, message
):
    expect = rehearsal.expect
    changed = {
        field: value(getattr(expect, field)) if callable(value) else value
        for field, value in changes.items()
    }

    with pytest.raises(bc.CheckFailed) as failed:
        bc.check_store(store_on_copy, dataclasses.replace(expect, **changed))

    assert message in str(failed.value)


def test_a_store_that_cannot_read_its_database_fails_at_readyz(rehearsal):
    env = bc.server_env(
        database_url=bc.database_url(rehearsal.server, f"{rehearsal.prefix}_never_made"),
        redis_url=settings.CACHES["default"]["LOCATION"],
        **rehearsal.common,
    )
    with (
        bc.Store(env, rehearsal.work / "gunicorn-no-db.log") as store,
        pytest.raises(bc.CheckFailed) as failed,
    ):
        bc.check_store(store.base, rehearsal.expect)

    assert str(failed.value).startswith("/readyz answered 503")


def test_a_server_that_is_not_the_store_fails_at_healthz(rehearsal, tmp_path):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0),
        functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(bc.CheckFailed) as failed:
            bc.check_store(f"http://127.0.0.1:{server.server_port}", rehearsal.expect)
    finally:
        server.shutdown()
        server.server_close()

    assert str(failed.value).startswith("/healthz answered 404 ")


def test_a_store_that_does_not_start_is_reported_with_its_log(rehearsal):
    env = bc.server_env(
        database_url=rehearsal.copy_url,
        redis_url=settings.CACHES["default"]["LOCATION"],
        **rehearsal.common,
    )
    del env["SECRET_KEY"]  # production settings refuse to start without it
    log = rehearsal.work / "gunicorn-no-key.log"

    with pytest.raises(bc.CheckFailed) as failed, bc.Store(env, log):
        pass

    assert str(failed.value).startswith("gunicorn exited (")
    assert "SECRET_KEY" in log.read_text()


def test_a_store_that_is_slow_to_start_is_given_up(rehearsal, monkeypatch):
    env = bc.server_env(
        database_url=rehearsal.copy_url,
        redis_url=settings.CACHES["default"]["LOCATION"],
        **rehearsal.common,
    )
    monkeypatch.setattr(bc, "START_TIMEOUT", 0)  # gunicorn takes longer than that to boot
    log = rehearsal.work / "gunicorn-slow.log"

    store = bc.Store(env, log)
    with pytest.raises(bc.CheckFailed) as failed, store:
        pass

    assert str(failed.value) == f"gunicorn did not answer within 0 s; its log: {log}"
    assert store.process.poll() is not None  # and it was stopped


def test_a_store_that_does_not_answer_fails_at_healthz(rehearsal):
    base = f"http://127.0.0.1:{bc.free_port()}"

    with pytest.raises(bc.CheckFailed) as failed:
        bc.check_store(base, rehearsal.expect)

    assert str(failed.value).startswith(f"no answer from {base}/healthz")


# --- PostgreSQL's client tools, and the command itself -----------------------------------------


def test_the_client_tools_must_be_there_and_not_older_than_the_server():
    assert bc.client_package_needed(15, {"pg_dump": 15, "pg_restore": 16}) is None
    assert bc.client_package_needed(15, {"pg_dump": 14, "pg_restore": 15}) == "postgresql-client-15"
    assert bc.client_package_needed(16, {"pg_dump": None, "pg_restore": 16}) == (
        "postgresql-client-16"
    )


def test_the_client_tools_versions_are_read_from_the_tools(rehearsal, monkeypatch, tmp_path):
    server = bc.server_major(rehearsal.server)

    assert bc.client_major("pg_dump") >= server  # as the suite's own restores need
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bc.client_major("pg_dump") is None
    tool = tmp_path / "pg_dump"
    tool.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    tool.chmod(0o755)
    assert bc.client_major("pg_dump") == 9
    tool.write_text("#!/bin/sh\necho 'not the PostgreSQL client'\n")
    assert bc.client_major("pg_dump") is None


def test_missing_client_names_the_package_only_when_the_tools_are_missing(
    rehearsal, monkeypatch, tmp_path, capsys
):
    server = bc.server_major(rehearsal.server)
    args = ["--missing-client", f"--server={rehearsal.server}"]

    assert bc.main(args) == 0
    assert capsys.readouterr().out == "\n"
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bc.main(args) == 0
    assert capsys.readouterr().out == f"postgresql-client-{server}\n"


@pytest.fixture
def kept_folder():
    """The folder a failed run names for its dump and logs: read from its message, removed
    after the test."""
    found = []

    def folder_in(err):
        found.append(Path(re.search(r"The dump and the server's log are kept in (\S+)", err)[1]))
        return found[-1]

    yield folder_in
    for folder in found:
        shutil.rmtree(folder, ignore_errors=True)


def database_exists(server, name):
    with bc.connect(bc.database_url(server, "postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def test_a_failed_rehearsal_says_why_and_drops_its_databases(
    rehearsal, monkeypatch, tmp_path, capsys, kept_folder
):
    prefix = f"{rehearsal.prefix}_failing"
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump: the check stops after making both
    outcome = bc.main([f"--db={prefix}", f"--server={rehearsal.server}"])

    assert outcome == 1
    err = capsys.readouterr().err
    assert "install postgresql-client-" in err
    assert kept_folder(err).is_dir()
    assert not database_exists(rehearsal.server, f"{prefix}_source")
    assert not database_exists(rehearsal.server, f"{prefix}_copy")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db=shop; DROP"], "--db must be a plain database name"),
        (["--server=postgres://postgres@127.0.0.1:5432/shop"], "without a database name"),
        (["--products=5"], "--products must be between 10 and 100,000"),
        (["--jobs=0"], "--jobs must be between 1 and 64"),
        (["--products=many"], "argument --products: invalid int value: 'many'"),
    ],
)
def test_bad_options_are_refused_with_a_reason(args, message, capsys):
    with pytest.raises(SystemExit) as exited:
        bc.arguments(args)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_figures_are_read_in_one_time_zone_with_a_statement_timeout(rehearsal):
    # Timestamps are compared as text: the source and the copy must print them alike.
    with bc.connect(rehearsal.copy_url) as conn:
        timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        zone = conn.execute("SHOW TimeZone").fetchone()[0]

    assert (timeout, zone) == ("1min", "UTC")


def test_a_database_left_by_a_killed_run_is_made_afresh(rehearsal):
    name = f"{rehearsal.prefix}_leftover"
    url = bc.database_url(rehearsal.server, name)
    bc.database_create(rehearsal.server, name)
    try:
        with bc.connect(url) as conn:
            conn.execute("CREATE TABLE left_behind (id int)")
        bc.database_create(rehearsal.server, name)
        with bc.connect(url) as conn:
            tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            assert tables.fetchall() == []
    finally:
        bc.database_drop(rehearsal.server, name)
    assert not database_exists(rehearsal.server, name)


def test_a_database_url_keeps_the_servers_options():
    assert bc.database_url("postgres://shop@db.internal:5432?sslmode=require", "shop_copy") == (
        "postgres://shop@db.internal:5432/shop_copy?sslmode=require"
    )


def test_a_seeding_that_fails_says_why(rehearsal):
    env = bc.store_env(
        database_url=bc.database_url(rehearsal.server, f"{rehearsal.prefix}_never_made"),
        DEBUG="true",
        PAYMENT_BACKEND="local",
        **rehearsal.common,
    )

    with pytest.raises(bc.CheckFailed) as failed:
        bc.seed(env, products=PRODUCTS, work=rehearsal.work)

    assert str(failed.value).startswith("seeding the store failed:\n")
    assert "does not exist" in str(failed.value)


def test_a_dump_that_cannot_be_restored_says_why(rehearsal, tmp_path):
    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"not an archive")

    with pytest.raises(bc.CheckFailed) as failed:
        bc.restore(garbage, rehearsal.copy_url, jobs=1)

    assert str(failed.value).startswith("pg_restore failed (exit 1): ")
    assert "input file does not appear to be a valid archive" in str(failed.value)


def test_a_dump_that_takes_too_long_is_given_up(rehearsal, tmp_path, monkeypatch):
    monkeypatch.setattr(bc, "STEP_TIMEOUT", 0.001)

    with pytest.raises(bc.CheckFailed) as failed:
        bc.dump(rehearsal.copy_url, tmp_path / "store.dump")

    assert str(failed.value) == "pg_dump did not finish within 0.001 s"


def test_an_unreachable_server_fails_with_its_reason(rehearsal, capsys, kept_folder):
    server = bc.database_url(rehearsal.server, "").rstrip("/")
    port = urllib.parse.urlsplit(server).port
    unreachable = server.replace(f":{port}", ":1")

    assert bc.main([f"--server={unreachable}", f"--db={rehearsal.prefix}_unreachable"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("FAIL: ")
    assert f"FAIL: could not drop {rehearsal.prefix}_unreachable_source" in err
    assert kept_folder(err).is_dir()
    assert bc.main(["--missing-client", f"--server={unreachable}"]) == 1
    host = urllib.parse.urlsplit(unreachable).hostname
    assert capsys.readouterr().err.startswith(f"FAIL: cannot reach PostgreSQL at {host}:1: ")


def test_too_few_products_in_stock_to_seed_orders_is_said(rehearsal):
    # The source's figures were read when it was made: emptying its shelves changes no test.
    source_url = bc.database_url(rehearsal.server, f"{rehearsal.prefix}_source")
    with bc.connect(source_url) as conn:
        conn.execute("UPDATE catalog_productvariant SET stock = 0")
    env = bc.store_env(
        database_url=source_url, DEBUG="true", PAYMENT_BACKEND="local", **rehearsal.common
    )

    with pytest.raises(bc.CheckFailed) as failed:
        bc.seed(env, products=PRODUCTS, work=rehearsal.work)

    assert str(failed.value) == (
        f"seeding the store failed:\n{PRODUCTS} demo products have too few in stock: ask for more"
    )


def test_static_files_that_cannot_be_collected_say_why(rehearsal):
    env = bc.server_env(
        database_url=rehearsal.copy_url,
        redis_url=settings.CACHES["default"]["LOCATION"],
        **rehearsal.common,
    )
    del env["SECRET_KEY"]

    with pytest.raises(bc.CheckFailed) as failed:
        bc.static_collect(env)

    assert str(failed.value).startswith("collectstatic failed:\n")
    assert "SECRET_KEY" in str(failed.value)


def test_a_seeding_that_takes_too_long_is_given_up(rehearsal, monkeypatch):
    monkeypatch.setattr(bc, "STEP_TIMEOUT", 0.001)
    env = bc.store_env(
        database_url=bc.database_url(rehearsal.server, f"{rehearsal.prefix}_never_made"),
        **rehearsal.common,
    )

    with pytest.raises(bc.CheckFailed) as failed:
        bc.seed(env, products=PRODUCTS, work=rehearsal.work)

    assert str(failed.value) == "seeding the store took over 0.001 s"
