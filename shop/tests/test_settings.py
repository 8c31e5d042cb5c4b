"""Start-up refuses an incomplete production configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(*check_args, **env):
    # Playwright's pytest plugin sets DJANGO_ALLOW_ASYNC_UNSAFE, which the deploy check refuses.
    unset = {*PRODUCTION_VARS, *PROXY_VARS, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *check_args],
        cwd=ROOT,
        env={**clean, "ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "shop.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION_VARS = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/shop",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "EMAIL_URL": "smtp://mail.example.com:587",
    "STRIPE_SECRET_KEY": "sk_test_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}

# Settings of the proxy the tests below set themselves, whatever the shell running them has.
PROXY_VARS = {"TRUST_X_FORWARDED_PROTO", "CLIENT_IP_HEADER", "RATELIMIT_IP_META_KEY"}


@pytest.mark.parametrize("missing", [("SECRET_KEY",), ("ALLOWED_HOSTS", "DATABASE_URL")])
def test_production_without_required_variables_stops_with_one_message_naming_them(
    missing, tmp_path
):
    env = {k: v for k, v in PRODUCTION_VARS.items() if k not in missing}

    result = start(**env)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    for name in missing:
        assert name in last_line
    for name in set(PRODUCTION_VARS) - set(missing) - {"DEBUG"}:
        assert name not in last_line


def test_production_with_every_required_variable_starts():
    result = start(**PRODUCTION_VARS)
    assert result.returncode == 0, result.stderr


def test_production_refuses_the_local_payment_stand_in():
    result = start(**PRODUCTION_VARS, PAYMENT_BACKEND="local")
    assert result.returncode != 0
    assert "PAYMENT_BACKEND=local is the development stand-in" in result.stderr


def deploy_check(**env):
    return start("--deploy", **env)


def test_the_deploy_check_refuses_a_proxy_whose_client_ip_is_the_connecting_address():
    behind_a_proxy = {**PRODUCTION_VARS, "TRUST_X_FORWARDED_PROTO": "true"}

    refused = deploy_check(**behind_a_proxy)
    passed = deploy_check(**behind_a_proxy, CLIENT_IP_HEADER="X-Real-IP")
    without_a_proxy = deploy_check(**PRODUCTION_VARS)

    assert refused.returncode != 0
    assert "shop.E002" in refused.stderr
    assert "CLIENT_IP_HEADER" in refused.stderr
    assert passed.returncode == 0, passed.stderr
    assert "shop.E002" not in passed.stderr
    assert without_a_proxy.returncode == 0, without_a_proxy.stderr


def test_the_old_ratelimit_ip_meta_key_stops_start_up_naming_client_ip_header():
    result = start(**PRODUCTION_VARS, RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP")

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert "RATELIMIT_IP_META_KEY" in last_line
    assert "CLIENT_IP_HEADER" in last_line


def test_a_client_ip_header_that_is_not_a_header_name_stops_start_up():
    result = start(**PRODUCTION_VARS, CLIENT_IP_HEADER="HTTP_X_REAL_IP")

    assert result.returncode != 0
    assert "CLIENT_IP_HEADER must be an HTTP header name" in result.stderr


def database_setting(expression, **env):
    """What `expression` (of `settings`) prints in a process started with `env`."""
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print({expression})"],
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "shop.settings", **env},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def database_options(**env):
    return database_setting("sorted(settings.DATABASES['default']['OPTIONS'].items())", **env)


def test_postgresql_prepares_repeated_statements_unless_a_pooler_cannot_keep_them():
    database = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/shop"}

    assert "('prepare_threshold', 5)" in database_options(**database)
    assert "('server_side_binding', True)" in database_options(**database)
    behind_pgbouncer = database_options(**database, DB_PREPARED_STATEMENTS="false")
    assert "('prepare_threshold', None)" in behind_pgbouncer
    assert "('server_side_binding', True)" in behind_pgbouncer


def test_behind_pgbouncer_nothing_outlives_a_transaction():
    database = {"DATABASE_URL": "postgres://postgres@127.0.0.1:6432/shop", "PGBOUNCER": "true"}

    options = database_options(**database)

    assert "('prepare_threshold', None)" in options
    assert "('server_side_binding', True)" in options
    cursors = "settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']"
    assert database_setting(cursors, **database) == "True"
