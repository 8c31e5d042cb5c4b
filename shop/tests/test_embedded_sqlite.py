"""The store runs on the embedded SQLite default, as `make run` starts it."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrates_seeds_and_serves_pages_on_sqlite_without_postgres_or_redis(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "ENV_FILE": "",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
        "DJANGO_SUPERUSER_PASSWORD": "a-strong-admin-secret-91",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["seed_admin"], ["seed_demo", "--products", "30"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)

    name = (
        subprocess.run(
            [
                *manage,
                "shell",
                "-c",
                "from catalog.models import Product; print(Product.objects.last())",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    word = name.split()[-1].lower()
    search = f"/products/?q={word}&sort=price_asc"

    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pages = {}
        deadline = time.monotonic() + 30
        for path in ("/", "/accounts/login/", "/readyz", search):
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                        pages[path] = (response.status, response.read().decode())
                    break
                except urllib.error.HTTPError:
                    raise
                except OSError:
                    # The server is still starting: the port is not open yet.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert pages["/"][0] == 200
    assert "New in" in pages["/"][1]
    status, html = pages[search]
    assert status == 200
    assert name in html
    assert "Nothing matches" not in html
    assert pages["/accounts/login/"][0] == 200
    assert '"database": "ok"' in pages["/readyz"][1]
