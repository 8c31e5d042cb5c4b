"""Password-reset links never reach the logs, whichever logger writes the request's path."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.tests.factories import UserFactory
from shop.logging import MASK, JsonFormatter, RequestContextFilter, redact

pytestmark = pytest.mark.django_db


@pytest.fixture
def reset_link():
    user = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return uid, token, f"/accounts/password/reset/{uid}/{token}/"


@pytest.fixture
def written():
    """What the production handler (JSON, with the request filter) writes, for the loggers
    that carry a request's path."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("shop.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_request_log_masks_a_password_reset_link(client, reset_link, written):
    uid, token, link = reset_link

    response = client.get(link)

    assert response.status_code == 302  # on to the set-password form, which carries the uid
    client.get(response["Location"])
    lines = [line for line in written() if line["logger"] == "shop.request"]
    assert len(lines) == 2
    for line in lines:
        text = json.dumps(line)
        assert token not in text
        assert f"/{uid}/" not in text
        assert line["path"].startswith(f"/accounts/password/reset/{MASK}/")
        assert f"/accounts/password/reset/{MASK}/" in line["message"]


def test_django_error_logs_mask_a_password_reset_link(client, reset_link, written):
    uid, token, link = reset_link

    # An unknown Host is refused and logged by Django with the request (and its path) attached.
    response = client.get(link, HTTP_HOST="evil.example.net")

    assert response.status_code == 400
    [line] = [line for line in written() if line["logger"].startswith("django.security")]
    text = json.dumps(line)
    assert "WSGIRequest" in line["request"]
    assert token not in text
    assert f"/{uid}/" not in text


def test_redact_masks_reset_links_and_keeps_the_pages_around_them():
    assert redact("GET /accounts/password/reset/MQ/c5k9xz-0a1b2c3d4e5f/ 302") == (
        f"GET /accounts/password/reset/{MASK}/{MASK}/ 302"
    )
    assert redact("GET /accounts/password/reset/sent/ 200") == (
        "GET /accounts/password/reset/sent/ 200"
    )


def test_error_reports_to_sentry_mask_a_password_reset_link():
    # Settings wire the hook into Sentry's client: ask that client what it would send.
    script = (
        "import sentry_sdk; hook = sentry_sdk.get_client().options['before_send']; "
        "event = hook({'request': {'url': 'https://shop.example.com/accounts/password/reset/"
        "MQ/c5k9xz-0a1b2c3d4e5f/'}, 'transaction': '/accounts/password/reset/MQ/c5k9xz-0a/'}, {}); "
        "print(event['request']['url'], event['transaction'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "RATELIMIT_IP_META_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "ENV_FILE": "", "SENTRY_DSN": "http://public@127.0.0.1:9/1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "c5k9xz" not in result.stdout
    assert result.stdout.split() == [
        f"https://shop.example.com/accounts/password/reset/{MASK}/{MASK}/",
        f"/accounts/password/reset/{MASK}/{MASK}/",
    ]
