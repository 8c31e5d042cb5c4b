"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

READINESS_KEY = "readyz:probe"


@never_cache
@require_safe
def healthz(request):
    """The process is up and answering; touches neither database nor cache."""
    return HttpResponse("ok", content_type="text/plain")


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache():
    """Redis answered a write and a read. Never raises or hangs: the cache backend gives up
    after REDIS_TIMEOUT, and logs an outage once rather than on every probe."""
    cache.set(READINESS_KEY, "1", timeout=10)
    return cache.get(READINESS_KEY) == "1"


@never_cache
@require_safe
def readyz(request):
    """Ready to serve shoppers: the database answers. 503 only without it.

    A cache that does not answer is reported as "degraded", still with 200: the store works
    without Redis, only slower, and every host shares the one Redis, so taking hosts out of the
    load balancer for it would turn a slow store into no store at all.
    """
    checks = {}
    try:
        _check_database()
    except Exception:
        # The reason goes to the log for operators; the response only names the part.
        logger.exception("readiness check failed: database")
        checks["database"] = "unavailable"
    else:
        checks["database"] = "ok"
    checks["cache"] = "ok" if _check_cache() else "degraded"
    if checks["database"] != "ok":
        status = "unavailable"
    else:
        status = "ready" if checks["cache"] == "ok" else "degraded"
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
    )
