"""Fixtures and checks shared by the whole suite."""

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
def _media_in_tmp(settings, tmp_path):
    # Uploaded and generated pictures go to a throw-away folder, never into the work tree.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _static_files_without_startup_scan(settings):
    # WhiteNoise indexes every collected file each time a handler starts, and the test client
    # starts one per client: about a quarter of a second each. Looked up per request instead.
    settings.WHITENOISE_AUTOREFRESH = True
