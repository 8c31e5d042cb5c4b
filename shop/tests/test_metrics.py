"""/metrics: the bearer token, each metric following what the store does, and the counts of
every gunicorn worker added up, through worker restarts."""

import fcntl
import logging
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import stripe
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus
from payments.tests.conftest import WEBHOOK, signed_event
from shop import metrics
from shop.emails import email_queue

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-the-test-suite-0123456789"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
LATENCY = "shop_request_duration_seconds_count"
FAILURES = "shop_webhook_failures_total"


def parse(text):
    """{(sample name, labels): value} of an exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())))


def views(found):
    return {dict(labels)["view"] for name, labels in found if name == LATENCY}


@pytest.fixture
def scrape(client, settings):
    """Read /metrics as Prometheus does; returns the parsed samples."""
    settings.METRICS_TOKEN = TOKEN

    def read():
        response = client.get("/metrics", **AUTH)
        assert response.status_code == 200, response.content
        return parse(response.content.decode())

    return read


# --- Who may read it ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_token_configured_metrics_is_the_stores_ordinary_404(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", **AUTH)

    assert response.status_code == 404
    assert "404.html" in [template.name for template in response.templates]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer not-the-token",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        f"{TOKEN}",
        "Bearer jeton-à-accents-ünïcode",
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_401(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"shop_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_token_reads_metrics_by_any_host_name_over_plain_http(client, settings, scheme):
    # Prometheus scrapes each host by its address, on the app port, without TLS.
    settings.METRICS_TOKEN = TOKEN
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(
        "/metrics", HTTP_HOST="10.1.2.3:8000", HTTP_AUTHORIZATION=f"{scheme} {TOKEN}"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert value(parse(response.content.decode()), "shop_metrics_database_up") == 1


def test_metrics_answers_get_only(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.post("/metrics", **AUTH)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def check_with(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_metrics_token_shorter_than_32_characters_stops_start_up():
    refused = check_with(METRICS_TOKEN="x" * 31)
    accepted = check_with(METRICS_TOKEN="x" * 32)

    assert refused.returncode != 0
    assert "METRICS_TOKEN must be at least 32 characters" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr


# --- What the database holds -------------------------------------------------------------------


@pytest.mark.django_db
def test_placing_an_order_moves_orders_placed_and_pending_payment(scrape):
    before = scrape()

    place_order([(ProductFactory(stock=5), 1)])
    after = scrape()

    placed = "shop_orders_placed_total"
    assert value(after, placed) == value(before, placed) + 1
    for status, moved in [("pending_payment", 1), ("paid", 0), ("cancelled", 0)]:
        assert value(after, "shop_orders", status=status) == (
            value(before, "shop_orders", status=status) + moved
        )


@pytest.mark.django_db
def test_payments_are_counted_by_status_as_they_open_and_fail(client, shopper, settings, scrape):
    settings.PAYMENT_BACKEND = "local"
    order = place_order([(ProductFactory(stock=5), 1)], user=shopper)
    before = scrape()

    client.post(reverse("payments:start", args=[order.number]))
    opened = scrape()
    payment = Payment.objects.get(order=order)
    client.post(reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "fail"})
    failed = scrape()

    def counts(found):
        return [value(found, "shop_payments", status=s) for s in ("open", "failed", "paid")]

    assert counts(before) == [0, 0, 0]
    assert counts(opened) == [1, 0, 0]
    assert counts(failed) == [0, 1, 0]
    assert value(failed, "shop_orders", status="payment_failed") == 1


@pytest.mark.django_db
def test_a_queued_email_shows_in_the_outbox_depth_and_its_wait_grows(scrape):
    before = scrape()

    with transaction.atomic():
        email = email_queue(to="ada@example.com", subject="Hello", body="Hi", kind="test")
    queued = scrape()
    task = DBTaskResult.objects.filter(args_kwargs__args=[email.pk])
    # Queued by a host whose clock runs a minute ahead: waiting, but not for minus a minute.
    task.update(enqueued_at=timezone.now() + timedelta(minutes=1))
    ahead = scrape()
    task.update(enqueued_at=timezone.now() - timedelta(minutes=10))
    waited = scrape()

    assert value(before, "shop_outbox_tasks_due") == 0
    assert value(before, "shop_outbox_oldest_due_seconds") == 0
    assert value(ahead, "shop_outbox_oldest_due_seconds") == 0
    assert value(queued, "shop_outbox_tasks_due") == 1
    assert value(queued, "shop_outbox_emails", status="queued") == (
        value(before, "shop_outbox_emails", status="queued") + 1
    )
    assert 0 <= value(queued, "shop_outbox_oldest_due_seconds") < 30
    assert 600 <= value(waited, "shop_outbox_oldest_due_seconds") < 630


@pytest.mark.django_db
def test_a_task_waiting_for_its_next_try_is_scheduled_and_ages_only_once_due(scrape):
    with transaction.atomic():
        email = email_queue(to="ada@example.com", subject="Hello", body="Hi", kind="test")
    task = DBTaskResult.objects.filter(args_kwargs__args=[email.pk])
    now = timezone.now()

    task.update(enqueued_at=now - timedelta(hours=3), run_after=now + timedelta(hours=1))
    later = scrape()
    task.update(run_after=now - timedelta(minutes=2))
    due = scrape()

    assert value(later, "shop_outbox_tasks_scheduled") == 1
    assert value(later, "shop_outbox_tasks_due") == 0
    assert value(later, "shop_outbox_oldest_due_seconds") == 0
    assert value(due, "shop_outbox_tasks_scheduled") == 0
    assert value(due, "shop_outbox_tasks_due") == 1
    # Waiting since its time came, not since it was first queued three hours ago.
    assert 120 <= value(due, "shop_outbox_oldest_due_seconds") < 150


def lock_table(table):
    """Hold an exclusive lock on `table` from a connection of its own, until released."""
    db = connection.settings_dict
    holder = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"],
        connect_timeout=5,
    )  # fmt: skip
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    return holder


@pytest.mark.django_db(transaction=True)
def test_a_database_that_does_not_answer_in_time_leaves_its_figures_out(
    client, scrape, monkeypatch
):
    monkeypatch.setattr(metrics, "DATABASE_TIMEOUT_MS", 200)
    client.get("/robots.txt")
    holder = lock_table("orders_order")
    # Should the timeout not work, the scrape waits for this: a failing test, not a hanging one.
    release = threading.Timer(5, holder.close)
    release.start()
    try:
        started = time.monotonic()
        found = scrape()
        took = time.monotonic() - started
    finally:
        release.cancel()
        holder.close()

    assert value(found, "shop_metrics_database_up") == 0
    assert value(found, "shop_orders_placed_total") is None
    assert value(found, LATENCY, view="robots_txt", status="2xx") >= 1
    assert took < 2
    assert value(scrape(), "shop_metrics_database_up") == 1


SCRAPE = """
import os
from django.test import Client
print(Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + os.environ["METRICS_TOKEN"])
      .content.decode())
"""


def test_the_figures_are_read_on_the_embedded_sqlite_too(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "ENV_FILE": "",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "METRICS_TOKEN": TOKEN,
        "LOG_LEVEL": "ERROR",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    printed = subprocess.run([*manage, "shell", "--no-imports", "-c", SCRAPE], cwd=ROOT,
                             env=env, check=True, capture_output=True, text=True,
                             timeout=60).stdout  # fmt: skip

    found = parse(printed)
    assert value(found, "shop_metrics_database_up") == 1
    assert value(found, "shop_orders_placed_total") == 0


# --- What this process counts ------------------------------------------------------------------


@pytest.mark.django_db
def test_refused_webhooks_are_counted_by_reason(client, settings, scrape):
    before = scrape()
    unsigned = client.post(
        WEBHOOK, data="{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="nonsense"
    )
    signature = stripe.WebhookSignature.generate_signature_header(
        "not json", settings.STRIPE_WEBHOOK_SECRET, timestamp=int(time.time())
    )
    unreadable = client.post(
        WEBHOOK, data="not json", content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    after = scrape()

    assert (unsigned.status_code, unreadable.status_code) == (400, 400)
    for reason, moved in [("signature", 1), ("malformed", 1), ("error", 0)]:
        was = value(before, FAILURES, reason=reason)
        assert value(after, FAILURES, reason=reason) == was + moved


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_fails_while_being_applied_counts_as_an_error(settings, scrape):
    order = place_order([(ProductFactory(stock=5), 1)])
    Payment.objects.create(
        order=order, attempt=1, provider="stripe", session_id="cs_metrics", amount=order.total,
        amount_minor=int(order.total * 100), currency=order.currency,
        status=PaymentStatus.OPEN,
    )  # fmt: skip
    body, signature = signed_event(
        "checkout.session.expired",
        {"id": "cs_metrics", "object": "checkout.session", "status": "expired"},
        secret=settings.STRIPE_WEBHOOK_SECRET,
    )
    before = scrape()
    # The payment's row is locked elsewhere and the store gives up waiting for it.
    holder = lock_table("payments_payment")
    release = threading.Timer(5, holder.close)  # a failing test, not a hanging one
    release.start()
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    try:
        response = Client(raise_request_exception=False).post(
            WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
    finally:
        release.cancel()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    after = scrape()

    assert response.status_code // 100 == 5
    assert value(after, FAILURES, reason="error") == value(before, FAILURES, reason="error") + 1
    assert value(after, FAILURES, reason="signature") == value(before, FAILURES, reason="signature")
    webhook_5xx = {"view": "payments:webhook", "status": "5xx"}
    assert value(after, LATENCY, **webhook_5xx) == (value(before, LATENCY, **webhook_5xx) or 0) + 1


@pytest.mark.django_db
def test_latency_is_recorded_under_the_views_url_name_and_status_class(client, scrape):
    before = scrape()

    client.get("/robots.txt")
    client.get(reverse("catalog:product_detail", args=["no-such-product"]))
    after = scrape()

    for labels in [
        {"view": "robots_txt", "status": "2xx"},
        {"view": "catalog:product_detail", "status": "4xx"},
    ]:
        assert value(after, LATENCY, **labels) == (value(before, LATENCY, **labels) or 0) + 1


@pytest.mark.django_db
def test_unknown_urls_all_share_one_label(client, scrape):
    before = scrape()

    for path in ["/wp-login.php", "/no/such/page/", "/.env", "/products/a/b/c/", "/%F0%9F%90%8D"]:
        assert client.get(path).status_code == 404
    after = scrape()

    unmatched = {"view": metrics.UNMATCHED, "status": "4xx"}
    assert value(after, LATENCY, **unmatched) == (value(before, LATENCY, **unmatched) or 0) + 5
    assert views(after) <= views(before) | {metrics.UNMATCHED}


# --- Every gunicorn worker, added up -----------------------------------------------------------

RECORD = """
import os, django
django.setup()
from django.test import Client
client = Client()
client.get("/robots.txt")
client.post("/payments/stripe/webhook/", data="{}", content_type="application/json")
print(os.getpid())
if os.environ.get("SCRAPE"):
    print(client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + os.environ["METRICS_TOKEN"])
          .content.decode())
"""


def record_in_a_process(directory, *, scrape=False):
    """Run a process with PROMETHEUS_MULTIPROC_DIR that serves one page and refuses one webhook
    (and then reads /metrics); returns its pid and what it printed after."""
    directory.mkdir(parents=True, exist_ok=True)
    db = connection.settings_dict
    env = {
        **os.environ,
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "shop.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "METRICS_TOKEN": TOKEN,
        "SCRAPE": "1" if scrape else "",
        "LOG_LEVEL": "ERROR",  # the request log would go to stdout with what is printed
    }
    done = subprocess.run(
        [sys.executable, "-c", RECORD], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    pid, _, printed = done.stdout.partition("\n")
    return int(pid), printed


class WorkerFiles:
    def __init__(self, directory):
        self.directory = directory

    def collect(self):
        return metrics.worker_counts(self.directory)


def exposition_of(directory):
    """What a scrape reports of the worker files in `directory`."""
    registry = CollectorRegistry()
    registry.register(WorkerFiles(directory))
    return parse(generate_latest(registry).decode())


@pytest.mark.django_db
def test_with_a_multiprocess_dir_a_scrape_adds_up_every_process(tmp_path):
    record_in_a_process(tmp_path)

    _, printed = record_in_a_process(tmp_path, scrape=True)

    found = parse(printed)
    assert value(found, LATENCY, view="robots_txt", status="2xx") == 2
    assert value(found, FAILURES, reason="signature") == 2
    # A new process reports every reason from the start, at 0 if need be, so that increase()
    # sees the first failure.
    assert value(found, FAILURES, reason="error") == 0
    assert value(found, "shop_metrics_database_up") == 1


@pytest.fixture(autouse=True)
def _environment_as_it_was():
    # gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR in this process's environment, and
    # removes the directory it made: the tests after these must not inherit it.
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    yield
    if before is None:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = before


def load_gunicorn_conf():
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_makes_a_private_metrics_dir_when_none_is_set_and_removes_it(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    conf = load_gunicorn_conf()
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    made = directory.is_dir(), directory.stat().st_mode & 0o777
    conf["on_exit"](None)

    assert made == (True, 0o700)
    assert directory.name.startswith(conf["METRICS_DIR_PREFIX"])
    assert not directory.exists()


def test_gunicorn_empties_the_operators_metrics_dir_at_start_and_keeps_it(tmp_path, monkeypatch):
    directory = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    conf = load_gunicorn_conf()  # makes the directory
    (directory / "counter_12345.db").write_bytes(b"an earlier run's counts")

    conf["on_starting"](None)
    conf["on_exit"](None)

    assert directory.is_dir()
    assert list(directory.glob("*.db")) == []


@pytest.mark.django_db
def test_a_dead_workers_counts_are_merged_and_still_added_up(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = load_gunicorn_conf()
    first, _ = record_in_a_process(tmp_path)
    second, _ = record_in_a_process(tmp_path)
    # A gauge of the first worker's, counted only while it lives.
    live = MmapedDict(str(tmp_path / f"gauge_livesum_{first}.db"))
    live.write_value(mmap_key("busy", "busy", [], [], "Busy workers."), 1.0, 0.0)
    live.close()
    before = exposition_of(tmp_path)
    server = SimpleNamespace(log=logging.getLogger("gunicorn.error"))

    conf["child_exit"](server, SimpleNamespace(pid=first))
    one_merged = exposition_of(tmp_path)
    conf["child_exit"](server, SimpleNamespace(pid=second))
    both_merged = exposition_of(tmp_path)
    conf["child_exit"](server, SimpleNamespace(pid=999_999))  # never counted anything

    assert value(before, LATENCY, view="robots_txt", status="2xx") == 2
    assert value(before, "busy") == 1
    without_the_gauge = {key: v for key, v in before.items() if key[0] != "busy"}
    assert one_merged == without_the_gauge
    assert both_merged == without_the_gauge
    assert sorted(path.name for path in tmp_path.glob("*.db")) == [
        "counter_merged.db",
        "histogram_merged.db",
    ]
    assert "could not be merged" not in caplog.text


def test_a_merge_cut_short_earlier_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = load_gunicorn_conf()
    worker, _ = record_in_a_process(tmp_path)
    before = exposition_of(tmp_path)
    # What a master stopped in the middle of a merge left: a merged file never renamed.
    half = MmapedDict(str(tmp_path / "counter_merged.new"))
    half.write_value(mmap_key("stale", "stale_total", [], [], "Half-merged."), 5.0, 0.0)
    half.close()

    conf["child_exit"](SimpleNamespace(log=logging.getLogger()), SimpleNamespace(pid=worker))

    assert exposition_of(tmp_path) == before


def test_a_scrape_waits_for_a_merge_and_a_merge_for_a_scrape(tmp_path):
    finished = []

    def in_background(work):
        thread = threading.Thread(target=lambda: finished.append(work()))
        thread.start()
        time.sleep(0.3)
        return thread

    with metrics._files_locked(tmp_path, fcntl.LOCK_EX):  # as the master merging
        scrape = in_background(lambda: metrics.worker_counts(tmp_path))
        waited_for_the_merge = finished == []
    scrape.join(5)
    with metrics._files_locked(tmp_path, fcntl.LOCK_SH):  # as a scrape reading
        merge = in_background(lambda: metrics.merge_dead_worker(tmp_path, 4242))
        waited_for_the_scrape = len(finished) == 1
    merge.join(5)

    assert waited_for_the_merge
    assert waited_for_the_scrape
    assert finished == [[], None]


def test_a_worker_file_that_cannot_be_merged_stays_and_the_master_goes_on(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = load_gunicorn_conf()
    broken = tmp_path / "counter_4242.db"
    # A used-size header that promises more than the file holds.
    broken.write_bytes((10_000).to_bytes(4, "little") + bytes(60))
    server = SimpleNamespace(log=logging.getLogger("gunicorn.error"))

    conf["child_exit"](server, SimpleNamespace(pid=4242))

    assert broken.exists()
    assert "metrics of worker 4242 could not be merged" in caplog.text


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_gunicorn_workers_add_up_through_restarts_and_a_new_start_counts_from_zero(tmp_path):
    directory = tmp_path / "metrics"
    record_in_a_process(directory)  # an earlier run's counts, to be forgotten
    port = free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "ENV_FILE": "",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "METRICS_TOKEN": TOKEN,
        "GUNICORN_WORKERS": "2",
        # Each worker is replaced after two requests: counts must survive its exit.
        "GUNICORN_MAX_REQUESTS": "2",
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "shop.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        # One worker takes this request and waits for the rest of it: the next pages are all
        # served by the other worker (and its successor), and the scrape must add both up.
        held = socket.create_connection(("127.0.0.1", port), timeout=10)
        held.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        for _ in range(3):
            assert urllib.request.urlopen(f"{url}/robots.txt", timeout=20).status == 200
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(100).startswith(b"HTTP/1.1 200")
        held.close()
        time.sleep(1)  # the master merges the workers that reached their limit
        scrape = urllib.request.Request(
            f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        found = parse(urllib.request.urlopen(scrape, timeout=20).read().decode())
        files = sorted(path.name for path in directory.glob("histogram_*.db"))
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]

    assert value(found, LATENCY, view="robots_txt", status="2xx") == 4, output
    assert value(found, FAILURES, reason="signature") == 0
    # The replaced worker's file was folded into the merged one.
    assert "histogram_merged.db" in files
    assert len(files) <= 3, files


def wait_until_up(url):
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
