"""Project-wide views: error pages that must work when other things do not."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token

from shop.media_errors import MediaStorageError


def csrf_failure(request, reason=""):
    # The reason is for developers (it is in the log); shoppers get a page that says what to do.
    return render(request, "403_csrf.html", status=403)


BARE_PAGE = "<!DOCTYPE html><html lang=en><title>bare</title><p>" + "x" * 1000 + "</p></html>"


def bench_bare(request):
    """A 1 KB page through the full middleware stack: the ceiling the benchmarks compare with."""
    return HttpResponse(BARE_PAGE)


def ratelimited(request, exception):
    response = render(request, "429.html", status=429)
    retry_after = getattr(exception, "retry_after", None)
    if retry_after is not None:
        # At least 1: a window ending this very second still means "not now".
        response["Retry-After"] = str(max(1, int(retry_after)))
    return response


@requires_csrf_token
def server_error(request):
    """500, or 503 when the database or the media storage is what failed: the store is down,
    not broken (nothing of the failed change was saved; it can be made again later).

    Rendered without a request context, so nothing here needs the database or the session.
    """
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError, MediaStorageError)):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(render_to_string("500.html"))
