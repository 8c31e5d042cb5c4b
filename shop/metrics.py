"""Metrics for Prometheus at /metrics: request latency and webhook failures counted in the
process, orders, payments and the outbox read from the database when Prometheus asks.

Under gunicorn each worker process counts for itself: with PROMETHEUS_MULTIPROC_DIR set
(gunicorn.conf.py sets it) every worker writes its counts to a file there and a scrape adds up
the files of every worker, living or gone. What the database holds is read at scrape time
instead, so every host reports the same figures and a restart loses nothing.
"""

import fcntl
import hmac
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, Count, F, Min, Q, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as exposition
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

PATH = "/metrics"
# Read once, as prometheus_client does when it is first imported: the two must agree.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
# Each statement of a scrape may take this long; a database that is slower makes the scrape
# report shop_metrics_database_up 0 rather than hold a worker.
DATABASE_TIMEOUT_MS = 1000

# Every label value comes from the code, never from the request: the URL pattern's name (or
# UNMATCHED) and the status class. Made-up URLs all land on UNMATCHED.
UNMATCHED = "unmatched"
# Django's responses carry a status from 100 to 599.
STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
REQUEST_LATENCY = Histogram(
    "shop_request_duration_seconds",
    "Seconds from the request reaching the store until its response was ready, by view (URL "
    "name) and status class.",
    ["view", "status"],
    # Pages take a few milliseconds; gunicorn kills a request after 30 s.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)

WEBHOOK_FAILURE_REASONS = ("signature", "malformed", "error")
WEBHOOK_FAILURES = Counter(
    "shop_webhook_failures",
    "Payment provider webhook deliveries refused or failed: signature (not signed with our "
    "secret, or too old), malformed (signed but unreadable), error (failed while being "
    "applied; the provider retries it).",
    ["reason"],
    registry=None,
)


def webhook_failed(reason: str) -> None:
    """Count a webhook delivery refused or failed, for one of WEBHOOK_FAILURE_REASONS."""
    WEBHOOK_FAILURES.labels(reason).inc()


class MetricsMiddleware:
    """Time every request, and answer /metrics.

    /metrics is answered here, before host validation and the HTTPS redirect: Prometheus
    scrapes each app host by its address over the private network (a scrape through the load
    balancer would reach one host's workers at random), like the health probes. Without
    METRICS_TOKEN the request goes on and gets the store's ordinary 404.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # Each reason is reported from the start at 0: a counter that first appears at 1 shows
        # no increase to Prometheus, and its alert would never fire for the first failure.
        for reason in WEBHOOK_FAILURE_REASONS:
            WEBHOOK_FAILURES.labels(reason)

    def __call__(self, request):
        if request.path_info == PATH and settings.METRICS_TOKEN:
            return metrics_view(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        REQUEST_LATENCY.labels(
            match.view_name if match is not None else UNMATCHED,
            STATUS_CLASSES[response.status_code // 100],
        ).observe(time.perf_counter() - started)
        return response


def _authorised(request: HttpRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.encode(), settings.METRICS_TOKEN.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        response = HttpResponse(
            "A bearer token (METRICS_TOKEN) is needed.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse("GET only.\n", status=405, content_type="text/plain")
        response["Allow"] = "GET, HEAD"
        return response
    response = HttpResponse(exposition(scrape_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response["Cache-Control"] = "no-store"
    return response


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(Scrape())
    return registry


class Scrape:
    """What one scrape reports: the counts of this process (of every worker, under gunicorn),
    then the store's figures from the database."""

    def collect(self) -> Iterator[Metric]:
        if MULTIPROCESS_DIR:
            yield from worker_counts(Path(MULTIPROCESS_DIR))
        else:
            yield from REQUEST_LATENCY.collect()
            yield from WEBHOOK_FAILURES.collect()
        yield from store_figures()


# --- The files of gunicorn's workers -----------------------------------------------------------

# Held shared while a scrape reads the workers' files, and exclusively while gunicorn's master
# folds a dead worker's files into the merged ones: a scrape never counts a worker twice, nor
# misses it, which Prometheus would take for a reset of every counter.
LOCK_NAME = "merge.lock"
# The files whose counts outlive their worker. (Gauges leave with it: mark_process_dead.)
LASTING_KINDS = ("counter", "histogram")


@contextmanager
def _files_locked(directory: Path, operation: int) -> Iterator[None]:
    # Closing the file releases the lock, also when a process dies holding it.
    with open(directory / LOCK_NAME, "a") as lock:
        fcntl.flock(lock, operation)
        yield


def worker_counts(directory: Path) -> list[Metric]:
    """The counts of every worker, living or gone, added up."""
    with _files_locked(directory, fcntl.LOCK_SH):
        return list(MultiProcessCollector(None, path=str(directory)).collect())


def merge_dead_worker(directory: Path, pid: int) -> None:
    """Fold a dead worker's counts into counter_merged.db and histogram_merged.db, and delete
    its files.

    Called by gunicorn's master (gunicorn.conf.py) when a worker exits. Otherwise every worker
    gunicorn recycles (GUNICORN_MAX_REQUESTS) leaves files that each scrape reads again, a few
    milliseconds each: seconds per scrape within days.
    """
    with _files_locked(directory, fcntl.LOCK_EX):
        for kind in LASTING_KINDS:
            dead = directory / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            merged = directory / f"{kind}_merged.db"
            sources = [str(dead), *([str(merged)] if merged.exists() else [])]
            # Written beside, then renamed over: a merged file is never half-written.
            fresh = directory / f"{kind}_merged.new"
            fresh.unlink(missing_ok=True)
            out = MmapedDict(str(fresh))
            try:
                for metric in MultiProcessCollector.merge(sources, accumulate=False):
                    for sample in metric.samples:
                        key = mmap_key(
                            metric.name,
                            sample.name,
                            list(sample.labels),
                            list(sample.labels.values()),
                            metric.documentation,
                        )
                        out.write_value(key, sample.value, 0.0)
            finally:
                out.close()
            fresh.replace(merged)
            dead.unlink()


# --- Read from the database at scrape time -----------------------------------------------------


def store_figures() -> Iterator[Metric]:
    """Orders, payments and the outbox as the database has them now: a few grouped counts."""
    up = GaugeMetricFamily(
        "shop_metrics_database_up",
        "1 if this scrape read the store's figures from the database, 0 if the database did "
        f"not answer within {DATABASE_TIMEOUT_MS} ms (the figures are then left out).",
    )
    try:
        figures = list(_store_figures())
    except DatabaseError as exc:
        logger.warning("metrics: the database did not answer: %s", exc)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    yield from figures


def _counts_by(queryset, field: str) -> dict[str, int]:
    return dict(queryset.order_by().values_list(field).annotate(n=Count("pk")))


def _store_figures() -> Iterator[Metric]:
    # Imported here: gunicorn's master imports this module for merge_dead_worker, without
    # Django's apps loaded.
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    from orders.models import Order, OrderStatus
    from payments.models import Payment, PaymentStatus
    from shop.models import Email, EmailStatus

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [str(DATABASE_TIMEOUT_MS)]
                )
        orders = _counts_by(Order.objects.all(), "status")
        payments = _counts_by(Payment.objects.all(), "status")
        unsent = [EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.FAILED]
        emails = _counts_by(Email.objects.filter(status__in=unsent), "status")
        now = timezone.now()
        # As DBTaskResult.objects.ready() decides what a worker may take now; a task enqueued
        # without a time to run after carries the greatest date instead.
        never = get_date_max()
        due = Q(run_after=never) | Q(run_after__lte=now)
        tasks = DBTaskResult.objects.filter(status=TaskResultStatus.READY).aggregate(
            due=Count("pk", filter=due),
            scheduled=Count("pk", filter=~due),
            # Since when each task may run: a scheduled one's time is still ahead, so the
            # earliest is a due task's whenever there is one (and negative, shown as 0, if not).
            due_since=Min(
                Case(When(run_after=never, then=F("enqueued_at")), default=F("run_after"))
            ),
        )

    placed = CounterMetricFamily(
        "shop_orders_placed", "Orders placed since the store opened (every order, any status)."
    )
    placed.add_metric([], sum(orders.values()))
    yield placed
    yield _by_label(
        "shop_orders", "Orders in each status now.", "status", OrderStatus.values, orders
    )
    yield _by_label(
        "shop_payments",
        "Payment attempts in each status now (paid, failed, expired, refunded, ...).",
        "status",
        PaymentStatus.values,
        payments,
    )
    yield _by_label(
        "shop_outbox_emails",
        "Emails not sent: queued (for the worker, or for their next try), sending, failed (gave "
        "up after every try; staff resend them from the back office).",
        "status",
        unsent,
        emails,
    )
    yield GaugeMetricFamily(
        "shop_outbox_tasks_due",
        "Background tasks (emails, picture renditions) due now that no worker has taken yet.",
        value=tasks["due"],
    )
    yield GaugeMetricFamily(
        "shop_outbox_tasks_scheduled",
        "Background tasks waiting for a later time (an email's next try).",
        value=tasks["scheduled"],
    )
    oldest = (now - tasks["due_since"]).total_seconds() if tasks["due_since"] else 0
    yield GaugeMetricFamily(
        "shop_outbox_oldest_due_seconds",
        "Seconds the oldest due task has waited for a worker since it became due; 0 when none.",
        # Never below 0: nothing due, or a task queued by a host whose clock runs ahead.
        value=max(oldest, 0),
    )


def _by_label(
    name: str, documentation: str, label: str, values: list[str], counts: dict[str, int]
) -> GaugeMetricFamily:
    # Every value is reported, 0 included, so a status's series never vanishes and reappears.
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value in values:
        family.add_metric([str(value)], counts.get(value, 0))
    return family
