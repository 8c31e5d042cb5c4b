"""Rate-limit rates and keys for django-ratelimit, read from settings.RATE_LIMITS per request."""

from django.conf import settings
from django_ratelimit.decorators import ratelimit

from accounts.models import normalize_email


def _rate(name):
    return lambda group, request: settings.RATE_LIMITS[name]


def _posted_email(field):
    # Per account, whatever the letter case or the IP the attempts come from.
    return lambda group, request: normalize_email(request.POST.get(field, "")) or "-"


def limit(name, key="ip", method="POST"):
    """A view decorator: at most RATE_LIMITS[name] requests per key; past it, the 429 page."""
    return ratelimit(group=name, key=key, rate=_rate(name), method=method, block=True)


def limit_by_email(name, field):
    return limit(name, key=_posted_email(field))
