"""Rate-limit rates and keys for django-ratelimit, read from settings.RATE_LIMITS per request."""

from functools import wraps

from django.conf import settings
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from accounts.models import normalize_email


class RateLimitExceeded(Ratelimited):
    """Ratelimited, with how long until the window ends, for the 429's Retry-After."""

    def __init__(self, retry_after):
        super().__init__()
        self.retry_after = retry_after


# Limits whose rate the settings may leave out (settings.RATE_LIMITS wins when it has them).
def _rate(name):
    return lambda group, request: settings.RATE_LIMITS[name]


def _posted_email(field):
    # Per account, whatever the letter case or the IP the attempts come from.
    return lambda group, request: normalize_email(request.POST.get(field, "")) or "-"


def limit(name, key="ip", method="POST"):
    """A view decorator: at most RATE_LIMITS[name] requests per key; past it, the 429 page.

    The counter is the group `name`, so every view limited under one name (the store's and the
    back office's login) draws on one budget.
    """

    def decorator(view):
        @wraps(view)
        def limited_view(request, *args, **kwargs):
            # django-ratelimit's own decorator raises a bare Ratelimited; get_usage also says
            # how many seconds are left in the window.
            usage = get_usage(
                request, group=name, key=key, rate=_rate(name), method=method, increment=True
            )
            if usage is not None and usage["should_limit"]:
                raise RateLimitExceeded(retry_after=usage["time_left"])
            return view(request, *args, **kwargs)

        return limited_view

    return decorator


def limit_by_email(name, field):
    return limit(name, key=_posted_email(field))
