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
    cache.set(READINESS_KEY, "1", timeout=10)
    if cache.get(READINESS_KEY) != "1":
        raise RuntimeError("cache did not return the value just written")


@never_cache
@require_safe
def readyz(request):
    """Ready to serve shoppers: the database and the cache both answer."""
    checks = {}
    for name, check in (("database", _check_database), ("cache", _check_cache)):
        try:
            check()
        except Exception:
            # The reason goes to the log for operators; the response only names the part.
            logger.exception("readiness check failed: %s", name)
            checks[name] = "unavailable"
        else:
            checks[name] = "ok"
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
