"""System checks for the whole store."""

from django.conf import settings
from django.core.checks import Error, Tags, register

SHARED_CACHES = (
    "shop.cache.ResilientRedisCache",
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


@register("caches")
def rate_limits_use_a_shared_cache(app_configs, **kwargs):
    """Counters kept per process would let every worker grant the full limit again."""
    backend = settings.CACHES[settings.RATELIMIT_USE_CACHE]["BACKEND"]
    if not settings.DEBUG and backend not in SHARED_CACHES:
        return [
            Error(
                f"Rate limits are counted in {backend}, which each process keeps for itself.",
                hint="Set REDIS_URL so every worker and host shares the counters.",
                id="shop.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def proxy_names_the_client_ip_header(app_configs, **kwargs):
    """Behind a proxy every request comes from the proxy's address: read from REMOTE_ADDR, one
    shopper's failed logins would lock every shopper out."""
    if settings.SECURE_PROXY_SSL_HEADER and not settings.CLIENT_IP_HEADER:
        return [
            Error(
                "TRUST_X_FORWARDED_PROTO says the store is behind a proxy, but CLIENT_IP_HEADER "
                "is empty, so rate limits count every shopper under the proxy's one address.",
                hint=(
                    "Set CLIENT_IP_HEADER to the header the proxy puts the client's address in, "
                    "e.g. X-Real-IP (nginx: proxy_set_header X-Real-IP $remote_addr;)."
                ),
                id="shop.E002",
            )
        ]
    return []
