"""The client's IP address, as rate limits count it (settings.RATELIMIT_IP_META_KEY).

Behind a reverse proxy every request arrives from the proxy's address, so one shopper's bad
logins would lock out everyone; CLIENT_IP_HEADER names the header the proxy puts the real
address in.
"""

import ipaddress

from django.conf import settings

# Whatever answers when neither the header nor the connection gives a usable address (a Unix
# socket with no proxy header): one shared bucket, rather than a 500 on every limited form.
UNKNOWN = "0.0.0.0"  # noqa: S104 -- a rate-limit bucket name, not an address to bind


def header_meta_key(header):
    """`X-Real-IP` -> `HTTP_X_REAL_IP`, the name WSGI gives the header in request.META."""
    return "HTTP_" + header.upper().replace("-", "_")


def _valid(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    header = settings.CLIENT_IP_HEADER
    if header:
        # X-Forwarded-For grows one entry per proxy, each appending the address it saw: only
        # the right-most was written by our own proxy; the ones left of it came from the client.
        # X-Real-IP holds one value, so the same rule reads it too.
        value = request.META.get(header_meta_key(header), "")
        address = _valid(value.rsplit(",", 1)[-1]) if value else None
        if address:
            return address
    return _valid(request.META.get("REMOTE_ADDR", "")) or UNKNOWN
