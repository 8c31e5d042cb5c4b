"""System checks for the whole store."""

from django.conf import settings
from django.core.checks import Error, register

SHARED_CACHES = (
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
