"""The cache backend of every alias: Redis makes the store faster, and its absence never breaks it.

Everything kept in Redis can be done without it: sessions are written through to PostgreSQL,
cached pages can be rendered again, the catalogue version lives in PostgreSQL. So a Redis error
is never raised to the caller: reads miss, writes are dropped, and after a failure this process
leaves Redis alone for RETRY_AFTER seconds, then lets one call try again. A frozen Redis thus
costs one socket timeout per process every few seconds, not one per call.

Per alias (see CACHES in settings):
- LOCAL_FALLBACK: while Redis is away, count in this process's memory instead (rate limits keep
  limiting, each worker on its own).
- DELETE_UNWRITTEN: keys whose write or delete could not reach Redis are deleted from it first
  thing when it answers again, so a Redis that was frozen rather than restarted cannot hand
  back a copy older than the database's (a session logged out meanwhile).
"""

import logging
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

# Without a socket timeout a frozen Redis blocks a worker for good; settings pass REDIS_TIMEOUT.
DEFAULT_SOCKET_TIMEOUT = 0.25
DEFAULT_RETRY_AFTER = 5.0
# Past this many keys to delete, the oldest are given up (with a warning): a bound on memory in
# a long outage. A session among them may come back from Redis as it was before the outage.
MAX_UNWRITTEN = 10_000
# Local counts: enough for every client a worker sees in a rate-limit window.
LOCAL_MAX_ENTRIES = 10_000
_UNAVAILABLE = object()


class _Server:
    """What this process knows of one Redis server, shared by every alias and thread using it."""

    def __init__(self, where):
        self.where = where  # host, port and database, never the password
        self.lock = threading.Lock()
        self.down = False
        self.retry_at = 0.0  # time.monotonic(): before this, Redis is not called at all
        self.unwritten = OrderedDict()
        self.gave_up_keys = False

    def may_call(self, retry_after):
        with self.lock:
            now = time.monotonic()
            if now < self.retry_at:
                return False
            if self.down:
                # This call is the one that tries again; the others keep going without Redis.
                self.retry_at = now + retry_after
            return True

    def failed(self, error, retry_after):
        with self.lock:
            self.retry_at = time.monotonic() + retry_after
            if self.down:
                return
            self.down = True
        logger.warning(
            "Redis at %s is unavailable (%s): serving without it, trying again every %ss",
            self.where,
            error,
            retry_after,
        )

    def answered(self):
        if not self.down:
            return
        with self.lock:
            if not self.down:
                return
            self.down, self.retry_at, self.gave_up_keys = False, 0.0, False
        logger.info("Redis at %s answers again", self.where)

    def remember(self, keys):
        with self.lock:
            for key in keys:
                self.unwritten[key] = None
                self.unwritten.move_to_end(key)
            dropped = 0
            while len(self.unwritten) > MAX_UNWRITTEN:
                self.unwritten.popitem(last=False)
                dropped += 1
            warn = dropped and not self.gave_up_keys
            self.gave_up_keys = self.gave_up_keys or bool(dropped)
        if warn:
            logger.warning(
                "Redis at %s: more than %d keys could not be written; the oldest will not be "
                "deleted when it is back",
                self.where,
                MAX_UNWRITTEN,
            )

    def delete_unwritten(self, cache_client):
        if not self.unwritten:
            return
        with self.lock:
            keys = list(self.unwritten)
        cache_client.get_client(None, write=True).delete(
            *keys
        )  # a failure keeps them for the next try
        with self.lock:
            for key in keys:
                self.unwritten.pop(key, None)
        logger.info("Redis at %s: deleted %d keys written while it was away", self.where, len(keys))


_servers = {}
_servers_lock = threading.Lock()


def _server(locations):
    with _servers_lock:
        if locations not in _servers:
            parts = urlsplit(locations[0])
            where = f"{parts.hostname}:{parts.port or 6379}{parts.path}"
            _servers[locations] = _Server(where)
        return _servers[locations]


class _RedisClients(RedisCacheClient):
    """One redis.Redis per connection pool, made once: Django makes a new one for every call,
    and building its table of reply parsers took longer than the call to Redis itself."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._by_pool = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._by_pool.get(pool)
        if client is None:
            # Two threads may both make one here; either serves, the pool is the same.
            client = self._by_pool[pool] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisClients
        self._options = {
            "socket_connect_timeout": DEFAULT_SOCKET_TIMEOUT,
            "socket_timeout": DEFAULT_SOCKET_TIMEOUT,
            **self._options,
        }
        self._retry_after = float(params.get("RETRY_AFTER", DEFAULT_RETRY_AFTER))
        self._server = _server(tuple(self._servers))
        self._delete_unwritten = bool(params.get("DELETE_UNWRITTEN", False))
        self._local = None
        if params.get("LOCAL_FALLBACK", False):
            # LocMemCache keeps its data per name, module-wide: every thread of the process
            # counts in the same place.
            self._local = LocMemCache(
                f"shop.cache.local:{';'.join(self._servers)}:{self.key_prefix}",
                {
                    "TIMEOUT": params.get("TIMEOUT", 300),
                    "KEY_PREFIX": self.key_prefix,
                    "OPTIONS": {"MAX_ENTRIES": LOCAL_MAX_ENTRIES},
                },
            )

    def _run(self, name, args, *, miss=None, writes=(), version=None):
        server = self._server
        if server.may_call(self._retry_after):
            try:
                if self._delete_unwritten:
                    server.delete_unwritten(self._cache)
                result = getattr(super(), name)(*args)
            except redis.RedisError as error:
                server.failed(error, self._retry_after)
            else:
                server.answered()
                return result
        if self._local is not None:
            return getattr(self._local, name)(*args)
        if writes and self._delete_unwritten:
            server.remember(self.make_key(key, version=version) for key in writes)
        return miss

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        args = (key, value, timeout, version)
        return self._run("add", args, miss=False, writes=[key], version=version)

    def get(self, key, default=None, version=None):
        return self._run("get", (key, default, version), miss=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._run("set", (key, value, timeout, version), writes=[key], version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        args = (key, timeout, version)
        return self._run("touch", args, miss=False, writes=[key], version=version)

    def delete(self, key, version=None):
        return self._run("delete", (key, version), miss=False, writes=[key], version=version)

    def get_many(self, keys, version=None):
        return self._run("get_many", (keys, version), miss={})

    def has_key(self, key, version=None):
        return self._run("has_key", (key, version), miss=False)

    def incr(self, key, delta=1, version=None):
        result = self._run("incr", (key, delta, version), miss=_UNAVAILABLE)
        if result is _UNAVAILABLE:
            # What callers of a cache expect from a key that is not there.
            raise ValueError(f"Key '{key}' not found: the cache is unavailable.")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Like Django's backends, returns the keys it could not store.
        args = (data, timeout, version)
        return self._run("set_many", args, miss=list(data), writes=list(data), version=version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._run("delete_many", (keys, version), writes=keys, version=version)

    def clear(self):
        if self._local is not None:
            self._local.clear()
        return self._run("clear", (), miss=False)
