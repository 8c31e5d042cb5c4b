"""Start-up refuses an incomplete production configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
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
