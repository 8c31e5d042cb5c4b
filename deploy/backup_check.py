"""Rehearse a restore of the store's database: `make backup-check`.

A store is seeded in a fresh database: the demo catalogue, then orders placed, paid, shipped,
refunded, cancelled, failed and left unpaid through the store's own services, paid through its
local payment stand-in. The database is dumped with `pg_dump --format=custom`, the dump restored
with `pg_restore` into a second fresh database, and the two compared: the rows, content, indexes
and constraints of every table in the public schema, the sequences, and the money and stock
totals. Then gunicorn serves the copy with production settings, and the check asks it over HTTP
for /healthz, /readyz, a product's page and a guest's order. However it ends, the server is
stopped and both databases dropped. Exits 1 saying what differs or what failed (the dump and the
server's log are then kept, and their folder named).

Options default to the environment: BACKUP_CHECK_DB (the databases are <it>_source and
<it>_copy, dropped first if a killed run left them), BACKUP_CHECK_SERVER, BACKUP_CHECK_REDIS_URL,
BACKUP_CHECK_PRODUCTS; see --help. `--missing-client` prints the Debian package of PostgreSQL's
client tools to install first, if pg_dump or pg_restore is missing or older than the server.
"""

import argparse
import html
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Plain names only: they go into CREATE and DROP DATABASE, and with "_source" added stay within
# PostgreSQL's 63 characters.
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,54}")
TOOLS = ("pg_dump", "pg_restore")
CONNECT_TIMEOUT = 5  # seconds, for every connection to PostgreSQL (ours and the tools')
STATEMENT_TIMEOUT_MS = 60_000
STEP_TIMEOUT = 300  # seconds for each of seeding, pg_dump, pg_restore, collectstatic
HTTP_TIMEOUT = 10
START_TIMEOUT = 30  # seconds for gunicorn to answer /healthz
STOP_TIMEOUT = 20
SOURCE = "backup check"  # who made the seeded orders' moves, on their timelines
GUEST_EMAIL = "guest@backup-check.example.com"

# The money and stock of the store, each a query returning one row: a copy that lost or changed
# a payment, a refund or a stock figure says so in the store's own words.
TOTALS = {
    "orders (count, sum of totals)": "SELECT count(*), coalesce(sum(total), 0) FROM orders_order",
    "order lines (units, sum of line totals)": (
        "SELECT coalesce(sum(quantity), 0), coalesce(sum(line_total), 0) FROM orders_orderitem"
    ),
    "payments captured (count, amount)": (
        "SELECT count(*), coalesce(sum(amount), 0) FROM payments_payment "
        "WHERE status IN ('paid', 'refund_pending', 'refunded')"
    ),
    "refunds made (count, amount)": (
        "SELECT count(*), coalesce(sum(amount), 0) FROM payments_refund WHERE state = 'succeeded'"
    ),
    "stock on hand (variants, units)": (
        "SELECT count(*), coalesce(sum(stock), 0) FROM catalog_productvariant"
    ),
}


class CheckFailed(Exception):
    """The rehearsal failed; the message says what to look at."""


@dataclass(frozen=True)
class Mismatch:
    figure: str
    source: str | None
    copy: str | None

    def __str__(self) -> str:
        if self.copy is None:
            return f"{self.figure}: in the source, missing from the copy"
        if self.source is None:
            return f"{self.figure}: in the copy only"
        if self.figure.startswith("content of "):
            return f"{self.figure}: the rows differ"
        return f"{self.figure}: {self.source} in the source, {self.copy} in the copy"


@dataclass(frozen=True)
class Expectations:
    """What the copy must show over HTTP, as the seeding recorded it in the source."""

    product_path: str
    product_name: str
    product_price: str
    order_link: str  # the guest's signed link to their order
    order_number: str
    order_total: str
    order_item: str


# --- PostgreSQL --------------------------------------------------------------------------------


def database_url(server: str, name: str) -> str:
    """The URL of database `name` on `server` (a URL without a database), its options kept."""
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path=f"/{name}"))


def connect(url: str) -> psycopg.Connection:
    """A connection for the check's own statements: bounded waits, and one time zone on both
    sides, so that the same timestamp reads the same in the source and in the copy."""
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC",
    )


def database_create(server: str, name: str) -> None:
    """A new, empty database (one a killed run left behind is dropped first). From template0,
    as PostgreSQL advises for a restore: nothing added to template1 can clash with the dump."""
    database_drop(server, name)
    with connect(database_url(server, "postgres")) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))


def database_drop(server: str, name: str) -> None:
    with connect(database_url(server, "postgres")) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def server_major(server: str) -> int:
    with connect(database_url(server, "postgres")) as conn:
        return conn.info.server_version // 10000


def client_major(tool: str) -> int | None:
    """The major version of one of PostgreSQL's client tools on the PATH; None without it."""
    path = shutil.which(tool)
    if path is None:
        return None
    answer = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    found = re.search(r"\(PostgreSQL\) (\d+)", answer.stdout)
    return int(found.group(1)) if found else None


def client_package_needed(server: int, clients: dict[str, int | None]) -> str | None:
    """The Debian package of the client tools to install, or None when every tool is there and
    not older than the server: pg_dump refuses to dump a newer server, and pg_restore to read a
    newer pg_dump's archive."""
    if all(major is not None and major >= server for major in clients.values()):
        return None
    return f"postgresql-client-{server}"


def tool_run(args: list[str]) -> None:
    """Run pg_dump or pg_restore, giving up after STEP_TIMEOUT; CheckFailed with its errors."""
    try:
        subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=True,
            env={**os.environ, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT)},
        )
    except subprocess.CalledProcessError as exc:
        raise CheckFailed(
            f"{args[0]} failed (exit {exc.returncode}): {exc.stderr.strip()}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"{args[0]} did not finish within {STEP_TIMEOUT} s") from exc


def dump(url: str, path: Path) -> None:
    tool_run(["pg_dump", "--format=custom", f"--file={path}", f"--dbname={url}"])


def restore(path: Path, url: str, *, jobs: int) -> None:
    # --exit-on-error: by default pg_restore goes on past errors and only counts them, which
    # would leave a copy missing whatever failed.
    tool_run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--jobs={jobs}",
            f"--dbname={url}",
            str(path),
        ]
    )


# --- Comparing a database with its copy --------------------------------------------------------


def store_figures(conn: psycopg.Connection) -> dict[str, str]:
    """Everything a restore must bring back, as text: per table of the public schema its rows,
    a digest of their content, its indexes and constraints; each sequence's position (a copy
    behind its source would hand out ids already taken); the money and stock totals."""
    figures = {}
    tables = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).fetchall()
    for (table,) in tables:
        # Rows in a fixed order (byte order, whatever the database's collation) as text.
        count, digest = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                "ORDER BY t::text COLLATE \"C\"), '')) FROM {} AS t"
            ).format(sql.Identifier("public", table))
        ).fetchone()
        figures[f"rows of {table}"] = str(count)
        figures[f"content of {table}"] = digest
    for table, names in conn.execute(
        "SELECT tablename, string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes "
        "WHERE schemaname = 'public' GROUP BY tablename ORDER BY tablename"
    ):
        figures[f"indexes of {table}"] = names
    for table, names in conn.execute(
        "SELECT c.relname, string_agg(k.conname, ', ' ORDER BY k.conname) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = 'public'::regnamespace "
        "GROUP BY c.relname ORDER BY c.relname"
    ):
        figures[f"constraints of {table}"] = names
    for name, value in conn.execute(
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
        "ORDER BY sequencename"
    ):
        figures[f"sequence {name}"] = "unused" if value is None else str(value)
    figures["orders by status"] = conn.execute(
        "SELECT coalesce(string_agg(status || ' ' || n, ', ' ORDER BY status), 'none') "
        "FROM (SELECT status, count(*) AS n FROM orders_order GROUP BY status) AS counted"
    ).fetchone()[0]
    for label, query in TOTALS.items():
        figures[label] = ", ".join(str(value) for value in conn.execute(query).fetchone())
    return figures


def compare(source: dict[str, str], copy: dict[str, str]) -> list[Mismatch]:
    """Every figure that is not the same in the copy as in the source, in the source's order."""
    names = [*source, *(name for name in copy if name not in source)]
    return [
        Mismatch(name, source.get(name), copy.get(name))
        for name in names
        if source.get(name) != copy.get(name)
    ]


def unseeded(figures: dict[str, str]) -> list[str]:
    """The totals still at zero in a store that should have them: a copy that matches an empty
    source proves nothing about a restore."""
    return [
        label
        for label in TOTALS
        if any(Decimal(part) == 0 for part in figures.get(label, "0").split(", "))
    ]


def copy_verified(source: psycopg.Connection, copy: psycopg.Connection) -> dict[str, str]:
    """The source's figures, once the copy is found to hold the same; CheckFailed listing every
    difference otherwise, or when the source holds too little for the comparison to mean much."""
    figures = store_figures(source)
    empty = unseeded(figures)
    if empty:
        raise CheckFailed("the seeded store has nothing in " + ", ".join(empty))
    mismatches = compare(figures, store_figures(copy))
    if mismatches:
        raise CheckFailed(
            f"the restored copy differs from its source in {len(mismatches)} figure(s):\n"
            + "\n".join(f"  {mismatch}" for mismatch in mismatches)
        )
    return figures


# --- The store on the copy ---------------------------------------------------------------------


def store_env(*, database_url: str, secret_key: str, media_root: str, **extra: str) -> dict:
    """The environment the store runs in here: only what it needs, so that nothing of the
    operator's own environment (a production REDIS_URL, a SENTRY_DSN) reaches a rehearsal."""
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {
        **{name: os.environ[name] for name in kept if name in os.environ},
        "ENV_FILE": "",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "MEDIA_ROOT": media_root,
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def server_env(*, redis_url: str, **common: str) -> dict:
    """Production settings, with stand-in Stripe keys: nothing here pays or refunds."""
    return store_env(
        **common,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        REDIS_URL=redis_url,
        **{
            "STRIPE_SECRET_KEY": "sk_test_backup_check",
            "STRIPE_WEBHOOK_SECRET": "whsec_backup_check",
        },
        # Were anything to call Stripe, it would be refused here rather than reach Stripe.
        STRIPE_API_BASE="http://127.0.0.1:9",
        SECURE_SSL_REDIRECT="false",
        GUNICORN_WORKERS="1",
        LOG_FORMAT="json",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def static_collect(env: dict) -> None:
    """The static files as production serves them (hashed names, in the manifest the pages'
    links are read from), collected with the settings the store will run with."""
    try:
        subprocess.run(
            [PY, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise CheckFailed(f"collectstatic failed:\n{exc.stderr.strip()}") from exc
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"collectstatic did not finish within {STEP_TIMEOUT} s") from exc


class Store:
    """gunicorn serving the store with `env`, its output written to `log_path`; a context
    manager that stops it on the way out."""

    def __init__(self, env: dict, log_path: Path):
        self.base = f"http://127.0.0.1:{free_port()}"
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                 "--bind", self.base.removeprefix("http://"), "shop.wsgi:application"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def __enter__(self):
        try:
            self.wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise CheckFailed(
                    f"gunicorn exited ({self.process.returncode}) before answering; "
                    f"its log: {self.log_path}"
                )
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise CheckFailed(
                        f"gunicorn did not answer within {START_TIMEOUT} s; "
                        f"its log: {self.log_path}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, *, cookie: str = "") -> tuple[int, dict, str]:
    """(status, headers, body) of a GET, redirects not followed; CheckFailed without an answer."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        response = urllib.request.build_opener(_NoRedirect).open(request, timeout=HTTP_TIMEOUT)
    except urllib.error.HTTPError as error:
        response = error
    except OSError as error:
        raise CheckFailed(f"no answer from {url}: {error}") from error
    with response:
        body = response.read().decode("utf-8", "replace")
    return response.status, response.headers, body


def shown_without(body: str, **texts: str) -> str:
    """Which of `texts` the page does not show (as its template escapes them), said in words;
    empty when it shows them all."""
    return " and ".join(
        f"{what} {text!r}" for what, text in texts.items() if html.escape(text) not in body
    )


def check_store(base: str, expect: Expectations) -> list[str]:
    """Ask the store at `base` for what the copy must show; the checks passed, in order.
    CheckFailed at the first one that does not hold."""
    passed = []

    status, _, body = fetch(f"{base}/healthz")
    if (status, body) != (200, "ok"):
        raise CheckFailed(f"/healthz answered {status} {body[:80]!r}, not 200 'ok'")
    passed.append("/healthz answers ok")

    status, _, body = fetch(f"{base}/readyz")
    if '"database": "ok"' not in body:
        raise CheckFailed(
            f"/readyz answered {status} {body[:200]!r}: the store cannot read the copy"
        )
    passed.append("/readyz: the store reads the copy")

    page = expect.product_path
    status, _, body = fetch(base + page)
    if status != 200:
        raise CheckFailed(f"the product page {page} answered {status}, not 200")
    missing = shown_without(body, name=expect.product_name, price=expect.product_price)
    if missing:
        raise CheckFailed(f"the product page {page} does not show the product's {missing}")
    passed.append(f"the product page {page} shows {expect.product_name}, {expect.product_price}")

    # The guest link lets this visitor's session see the order, then leads to its page. The
    # session cookie is Secure (production settings): over this plain HTTP it goes back by hand.
    status, headers, _ = fetch(base + expect.order_link)
    order_page = f"/orders/{expect.order_number}/"
    location = urllib.parse.urlsplit(headers.get("Location", "")).path
    if location != order_page:
        raise CheckFailed(
            f"the guest link of order {expect.order_number} answered {status} to {location!r}, "
            f"not a redirect to {order_page}"
        )
    session = re.search(r"sessionid=([^;]+)", " ".join(headers.get_all("Set-Cookie") or []))
    status, _, body = fetch(
        base + order_page, cookie=f"sessionid={session.group(1)}" if session else ""
    )
    missing = shown_without(body, total=expect.order_total, line=expect.order_item)
    if missing:
        raise CheckFailed(f"the order page {order_page} answered {status} without its {missing}")
    passed.append(
        f"the guest's order {expect.order_number} shows its total {expect.order_total} and "
        f"its line {expect.order_item}"
    )
    return passed


# --- Seeding (in a child process: the store's settings are read once per process) --------------


def seed(env: dict, *, products: int, work: Path) -> Expectations:
    """Migrate and seed the database in `env`; what the copy must show of it."""
    expect_path = work / "expectations.json"
    args = [PY, __file__, "seed", f"--products={products}", f"--expect={expect_path}"]
    try:
        subprocess.run(
            args,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        raise CheckFailed(
            f"seeding the store failed:\n{(exc.stderr or exc.stdout).strip()}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"seeding the store took over {STEP_TIMEOUT} s") from exc
    return Expectations(**json.loads(expect_path.read_text()))


def seed_store(*, products: int) -> Expectations:
    """Migrate, add the demo catalogue, then orders in each state the store's money and stock
    pass through, made by the store's own services; its local stand-in takes the payments."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()

    from django.core.management import call_command
    from django.db.models import Count

    from cart.models import Cart
    from cart.services import cart_add_item
    from catalog.demo import WELCOME_CODE
    from catalog.models import ProductVariant
    from catalog.templatetags.money import money
    from orders.access import guest_url
    from orders.models import Order, OrderStatus
    from orders.services import order_cancel, order_place, order_transition
    from orders.tests.factories import checkout_request, place_order
    from payments.providers import provider
    from payments.services import payment_start, refund_create

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", products=products, verbosity=0, stdout=io.StringIO())
    # Simple products (one variant) with stock to spare, so that each page shows one price.
    variants = list(
        ProductVariant.objects.filter(is_active=True, product__is_active=True, stock__gte=10)
        .annotate(siblings=Count("product__variants"))
        .filter(siblings=1)
        .select_related("product")
        .order_by("pk")[:4]
    )
    if len(variants) < 4:
        raise CheckFailed(f"{products} demo products have too few in stock: ask for more")
    a, b, c, d = variants

    def session(order):
        return payment_start(
            order=order,
            success_url="http://127.0.0.1/payments/success/?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="http://127.0.0.1/cart/",
        )

    def paid(order):
        provider().pay(session(order))
        return Order.objects.get(pk=order.pk)

    # One order in each state the store's money and stock pass through: delivered; paid and
    # partly refunded, one unit back on sale; refunded in full; waiting for payment, its session
    # open; cancelled and payment failed (stock given back); paid with the demo discount code;
    # and a guest's, whose signed link the check follows on the copy.
    delivered = paid(place_order([(a, 2), (b, 1)]))
    for status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        order_transition(order=delivered, to=status, source=SOURCE)
    partly_refunded = paid(place_order([(b, 2), (c, 1)]))
    line = partly_refunded.items.get(variant=b)
    refund_create(order=partly_refunded, lines={line.pk: 1}, restock=True, reason="Arrived damaged")
    refunded = paid(place_order([(c, 1)]))
    refund_create(order=refunded, amount=refunded.total, restock=False, reason="Lost in the post")
    session(place_order([(d, 1)]))
    order_cancel(order=place_order([(a, 1)]), source=SOURCE)
    provider().fail(session(place_order([(d, 2)])))
    paid(place_order([(a, 1), (d, 1)], code=WELCOME_CODE))
    cart = Cart.objects.create(session_key=secrets.token_hex(16))
    cart_add_item(cart=cart, variant=b, quantity=1)
    guest = paid(order_place(checkout_request(cart, email=GUEST_EMAIL))[0])
    return Expectations(
        product_path=a.product.get_absolute_url(),
        product_name=a.product.name,
        product_price=money(a.price),
        order_link=guest_url(guest),
        order_number=guest.number,
        order_total=money(guest.total, guest.currency),
        order_item=guest.items.get().name,
    )


# --- The rehearsal -----------------------------------------------------------------------------


def step(text: str) -> None:
    print(f"== {text}", flush=True)


def rehearse(args: argparse.Namespace, work: Path) -> str:
    """Seed, dump, restore, compare, serve; the summary line. CheckFailed on the first fault."""
    began = time.monotonic()
    major = server_major(args.server)
    clients = {tool: client_major(tool) for tool in TOOLS}
    package = client_package_needed(major, clients)
    if package:
        found = ", ".join(f"{tool} {clients[tool] or 'missing'}" for tool in TOOLS)
        raise CheckFailed(
            f"the server is PostgreSQL {major}; pg_dump and pg_restore must be that version or "
            f"newer ({found}): install {package} (`make backup-check` does, with apt-get)"
        )
    source_url = database_url(args.server, f"{args.db}_source")
    copy_url = database_url(args.server, f"{args.db}_copy")
    common = {
        "secret_key": secrets.token_urlsafe(50),
        "media_root": str(work / "media"),
    }

    step(f"seed {args.db}_source: migrations, {args.products} demo products, orders")
    expect = seed(
        store_env(database_url=source_url, DEBUG="true", PAYMENT_BACKEND="local", **common),
        products=args.products,
        work=work,
    )
    step("pg_dump --format=custom")
    archive = work / "store.dump"
    started = time.monotonic()
    dump(source_url, archive)
    dumped = time.monotonic() - started
    step(f"pg_restore --no-owner --jobs={args.jobs} into {args.db}_copy")
    started = time.monotonic()
    restore(archive, copy_url, jobs=args.jobs)
    restored = time.monotonic() - started

    step("compare the copy with its source")
    with connect(source_url) as source_conn, connect(copy_url) as copy_conn:
        source = copy_verified(source_conn, copy_conn)
    tables = sum(name.startswith("rows of ") for name in source)
    print(f"ok   {len(source)} figures of {tables} tables alike, among them:")
    for label in (*TOTALS, "orders by status"):
        print(f"       {label}: {source[label]}")

    step("gunicorn on the copy, production settings")
    env = server_env(database_url=copy_url, redis_url=args.redis_url, **common)
    static_collect(env)
    with Store(env, work / "gunicorn.log") as store:
        for passed in check_store(store.base, expect):
            print(f"ok   {passed}")
    return (
        f"backup check passed in {time.monotonic() - began:.1f} s: dump of "
        f"{archive.stat().st_size / 1024:.0f} KiB in {dumped:.1f} s, restored in {restored:.1f} s"
    )


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("BACKUP_CHECK_DB", "shop_backup_check"),
        help="prefix of the two databases made and dropped (default shop_backup_check)",
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("BACKUP_CHECK_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server, as a URL without a database; its user creates databases",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BACKUP_CHECK_REDIS_URL", "redis://127.0.0.1:6379/12"),
        help="the cache of the store served on the copy (default redis://127.0.0.1:6379/12)",
    )
    parser.add_argument(
        "--products",
        type=int,
        # A string: argparse converts it like a typed value, and refuses a bad one with a reason.
        default=os.environ.get("BACKUP_CHECK_PRODUCTS", "30"),
        help="demo products to seed (default 30)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="pg_restore's parallel jobs")
    parser.add_argument(
        "--missing-client",
        action="store_true",
        help="print the Debian package of pg_dump and pg_restore to install, if any, and stop",
    )
    args = parser.parse_args(argv)
    if not DATABASE_NAME.fullmatch(args.db):
        parser.error(
            f"--db must be a plain database name (a-z, 0-9, _; 55 at most), not {args.db!r}"
        )
    if urllib.parse.urlsplit(args.server).path not in ("", "/"):
        parser.error(f"--server is the server's URL without a database name, not {args.server!r}")
    if not 10 <= args.products <= 100_000:
        parser.error("--products must be between 10 and 100,000")
    if not 1 <= args.jobs <= 64:
        parser.error("--jobs must be between 1 and 64")
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["seed"]:
        parser = argparse.ArgumentParser(prog="backup_check.py seed")
        parser.add_argument("--products", type=int, required=True)
        parser.add_argument("--expect", type=Path, required=True)
        args = parser.parse_args(argv[1:])
        try:
            expect = seed_store(products=args.products)
        except CheckFailed as exc:
            print(exc, file=sys.stderr)
            return 1
        args.expect.write_text(json.dumps(asdict(expect)))
        return 0

    args = arguments(argv)
    if args.missing_client:
        try:
            major = server_major(args.server)
        except psycopg.Error as exc:
            where = urllib.parse.urlsplit(args.server)  # named without its password
            print(
                f"FAIL: cannot reach PostgreSQL at {where.hostname}:{where.port or 5432}: {exc}",
                file=sys.stderr,
            )
            return 1
        print(client_package_needed(major, {tool: client_major(tool) for tool in TOOLS}) or "")
        return 0

    work = Path(tempfile.mkdtemp(prefix="backup-check-"))
    outcome = 1
    try:
        for suffix in ("source", "copy"):
            database_create(args.server, f"{args.db}_{suffix}")
        print(rehearse(args, work))
        outcome = 0
    except (CheckFailed, psycopg.Error) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
    finally:
        for suffix in ("source", "copy"):
            try:
                database_drop(args.server, f"{args.db}_{suffix}")
            except psycopg.Error as exc:
                outcome = 1
                print(f"FAIL: could not drop {args.db}_{suffix}: {exc}", file=sys.stderr)
        if outcome == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"The dump and the server's log are kept in {work}", file=sys.stderr)
    return outcome


if __name__ == "__main__":
    # A stop asked by a supervisor (SIGTERM) unwinds like Ctrl+C: main's cleanup runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
