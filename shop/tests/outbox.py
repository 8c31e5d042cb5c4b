"""For tests of the email outbox: mail servers on loopback, and the real worker."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SilentMailServer:
    """Accepts connections and never says a word: the mail server of the incident."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.connections = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(16)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # stop() shut the listener down
                return
            self.connections.append(conn)

    def stop(self):
        if self._listener.fileno() == -1:  # stopped already
            return
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)
        for conn in self.connections:
            conn.close()


class MailServer:
    """A working SMTP server (aiosmtpd) that keeps every message it is given."""

    def __init__(self, port=None, delay=0.0, refuse=()):
        self.port = port or free_port()
        self.messages = []
        self.delay = delay
        self.refuse = set(refuse)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook names
        if self.delay:
            time.sleep(self.delay)  # a slow server, so that two workers overlap
        self.messages.append(envelope)
        return "250 Message accepted"

    @property
    def recipients(self):
        return sorted(rcpt for message in self.messages for rcpt in message.rcpt_tos)

    def stop(self):
        self._controller.stop()


def worker_env(**overrides):
    """The worker's environment: production settings on the test database (read at run time)."""
    db = settings.DATABASES["default"]
    user = urllib.parse.quote(db["USER"] or "")
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    server = f"{db['HOST']}:{db['PORT'] or 5432}"
    return {
        **os.environ,
        "ENV_FILE": "",
        "DEBUG": "false",
        "DATABASE_URL": f"postgres://{user}{password}@{server}/{db['NAME']}",
        "LOG_FORMAT": "json",
        **overrides,
    }


WORKER = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]


def run_worker(**env):
    """Run `manage.py db_worker --batch` (every task that is due, then exit); returns its output."""
    result = subprocess.run(
        [*WORKER, "--batch", "--interval", "0"],
        cwd=ROOT,
        env=worker_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def start_worker(*args, **env):
    return subprocess.Popen(
        [*WORKER, *args],
        cwd=ROOT,
        env=worker_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def deliver_queued():
    """Run the due tasks in this process, as db_worker does, with the test's email backend.

    For tests inside a transaction, whose rows no worker process can see.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    while (result := DBTaskResult.objects.ready().get_locked()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
