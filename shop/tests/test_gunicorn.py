"""Two real gunicorn processes on PostgreSQL and Redis: shared rate limits, request ids, logs."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "hunter2-is-not-a-good-password"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Servers:
    """gunicorn processes of the store, started with production-like settings."""

    def __init__(self, count, env):
        self.processes, self.urls = [], []
        for _ in range(count):
            port = free_port()
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "-c",
                        "gunicorn.conf.py",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "shop.wsgi:application",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
            self.urls.append(f"http://127.0.0.1:{port}")
        for url in self.urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise
                    time.sleep(0.2)

    def stop(self):
        """Stop every process; returns what they wrote."""
        output = []
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
            output.append(process.communicate(timeout=20)[0])
        self.processes = []
        return "\n".join(output)


@pytest.fixture
def two_servers():
    db = connection.settings_dict
    env = {
        **os.environ,
        "ENV_FILE": "",
        "DEBUG": "false",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "RATELIMIT_LOGIN_ACCOUNT": "4/m",
        "LOG_FORMAT": "json",
        "GUNICORN_WORKERS": "1",
    }
    servers = Servers(2, env)
    yield servers
    servers.stop()


@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_processes_share_one_login_limit_and_log_json_with_request_ids(two_servers):
    first, second = two_servers.urls
    login_page = urllib.request.urlopen(f"{first}/accounts/login/")
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.read().decode()
    ).group(1)
    # The cookie is Secure (production settings); over this test's plain HTTP, send it by hand.
    cookie = re.search(r"csrftoken=([^;]+)", login_page.headers["Set-Cookie"]).group(1)

    statuses, request_ids = [], []
    for attempt in range(6):
        server = (first, second)[attempt % 2]  # alternate between the two processes
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "ada@example.com", "password": PASSWORD}
        ).encode()
        request = urllib.request.Request(
            f"{server}/accounts/login/",
            data=body,
            headers={"X-Request-ID": f"attempt-{attempt}", "Cookie": f"csrftoken={cookie}"},
        )
        try:
            response = urllib.request.urlopen(request)
        except urllib.error.HTTPError as error:
            response = error
        statuses.append(response.status)
        request_ids.append(response.headers["X-Request-ID"])
    logs = two_servers.stop()

    assert statuses == [200, 200, 200, 200, 429, 429]
    assert request_ids == [f"attempt-{n}" for n in range(6)]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    requests = {
        (line["request_id"], line["status"]) for line in lines if line["logger"] == "shop.request"
    }
    assert {("attempt-0", 200), ("attempt-1", 200), ("attempt-5", 429)} <= requests
    assert PASSWORD not in logs
