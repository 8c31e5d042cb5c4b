"""Project-wide middleware: request ids and request logging, the health probes, and the
request-body limit."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.shortcuts import render
from django.utils.functional import empty

from shop import health
from shop.logging import request_id
from shop.uploads import body_limit, content_length, takes_uploads

logger = logging.getLogger("shop.request")

# An id from the proxy is kept only if it is short and plain, so it cannot forge log lines.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _user_id(request):
    # Only if something already loaded the user: never a database query just for the log.
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", empty)
    if wrapped is empty or wrapped is None:
        return None
    return wrapped.pk if wrapped.is_authenticated else None


class RequestIdMiddleware:
    """Give every request an id (the proxy's X-Request-ID, or a new one), echo it in the
    response, put it on every log line, and log the request once when it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(request.id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.id
            level = (
                logging.DEBUG if request.path_info in HealthCheckMiddleware.probes else logging.INFO
            )
            logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            request_id.reset(token)


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before host validation and sessions.

    Load balancers and orchestrators call the probes by IP address, which is not in
    ALLOWED_HOSTS, and the probes must not create sessions or depend on other middleware.
    """

    probes = {"/healthz": health.healthz, "/readyz": health.readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """Answer 413 when Content-Length is over what the view may be sent, without reading a byte
    of the body.

    In process_view, the first one in MIDDLEWARE: the view is resolved by then and nothing has
    read the body yet (the CSRF check reads it in its own process_view, after this one), and the
    413 page still goes out through every middleware, so it carries the security headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        length = content_length(request)
        limit = body_limit(request)
        if limit is None or length <= limit:
            return None
        context = {"limit": limit}
        if takes_uploads(request):
            context["picture_limit"] = settings.MAX_IMAGE_UPLOAD_BYTES
        return render(request, "413.html", context, status=413)
