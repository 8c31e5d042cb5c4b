"""Fixtures and checks shared by the whole suite."""

import os
import signal
import socket
import subprocess
import time

import pytest
from django.conf import settings

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def pytest_sessionstart(session):
    """Stop at once, with one clear line, when PostgreSQL or Redis is not there."""
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit("The suite runs on PostgreSQL: run it with `make test` (DATABASE_URL).", 2)
    try:
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        pytest.exit(f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT']}: {exc}".strip(), 2)
    location = settings.CACHES["default"]["LOCATION"]
    try:
        redis.Redis.from_url(location, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis is not reachable at {location}: {exc}", 2)


@pytest.fixture(scope="session", autouse=True)
def _through_pgbouncer(request):
    """With TEST_PGBOUNCER_PORT set (`make pgbouncer-check`), every connection the tests open
    after the test database is made goes through PgBouncer on that port, as the store's does
    with PGBOUNCER=true; the database is made (migrated) on PostgreSQL itself, as a release
    step is."""
    port = os.environ.get("TEST_PGBOUNCER_PORT")
    if not port:
        yield
        return
    request.getfixturevalue("django_db_setup")
    from django.db import connections

    config = connections["default"].settings_dict
    direct = config["PORT"]
    connections.close_all()
    config.update(PORT=port, DISABLE_SERVER_SIDE_CURSORS=True)
    config["OPTIONS"]["prepare_threshold"] = None
    yield
    connections.close_all()
    # PgBouncer keeps idle server connections to the test database: let it go of them, so
    # that the database can be dropped on PostgreSQL itself (KILL pauses it: RESUME).
    name = config["NAME"]
    subprocess.run(  # noqa: S603 -- fixed arguments, the test database's own name
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "pgbouncer", "-q",  # noqa: S607
         "-c", f"KILL {name}", "-c", f"RESUME {name}"],
        check=False, capture_output=True, timeout=10,
    )  # fmt: skip
    config["PORT"] = direct


@pytest.fixture
def shopper(client):
    """A signed-in shopper: the `client` is logged in as the returned user."""
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is slow on purpose; the tests that are about hashing put the real list back.
    settings.PASSWORD_HASHERS = [FAST_HASHER, *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    from catalog.cache import forget_local

    cache.clear()
    forget_local()
    yield
    cache.clear()
    forget_local()


@pytest.fixture(autouse=True)
def _store_defaults(request):
    # A new store has the "Worldwide" shipping zone the migration made; a transactional test's
    # flush takes it away from every test after it. Tests that use the database start with it
    # (and make or delete other zones themselves).
    wants_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if request.node.get_closest_marker("django_db") is None and not wants_db:
        return
    request.getfixturevalue("db")
    from django.contrib.contenttypes.models import ContentType

    from orders.tests.factories import default_method

    # A flush also makes the content types anew, under other ids than the ones cached.
    ContentType.objects.clear_cache()
    default_method("GB")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded and generated pictures go to a throw-away folder, never into the work tree.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _static_files_without_startup_scan(settings):
    # WhiteNoise indexes every collected file each time a handler starts, and the test client
    # starts one per client: about a quarter of a second each. Looked up per request instead.
    settings.WHITENOISE_AUTOREFRESH = True


class RedisServer:
    """A redis-server of the test's own, on a free port: to stop, freeze and bring back without
    touching the Redis the rest of the suite (and everyone else on the machine) uses."""

    COMMAND = ("/usr/bin/redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self):
        import redis

        command = [*self.COMMAND, "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        client = redis.Redis.from_url(self.url, socket_timeout=0.5)
        deadline = time.monotonic() + 5
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.02)

    def stop(self):
        # SIGKILL also ends a frozen process, which would hold a SIGTERM until it is resumed.
        self.process.kill()
        self.process.wait()

    def freeze(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def redis_server(settings):
    """Every cache alias pointed at a private Redis, tried again half a second after a failure
    (not the production five) so a test can watch it come back."""
    from django.core.cache import caches

    server = RedisServer()
    settings.CACHES = {
        alias: {**config, "LOCATION": server.url, "RETRY_AFTER": 0.5}
        for alias, config in settings.CACHES.items()
    }
    # A port an earlier test used leaves this process's memory of that server behind: its
    # local rate-limit counts, and maybe an outage it is still waiting out.
    caches["ratelimit"].clear()
    deadline = time.monotonic() + 2
    while not caches["default"].add("redis_server:up", 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield server
    server.stop()
