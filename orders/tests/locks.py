"""Checkouts on threads of their own, and what PostgreSQL says about who waits for whom."""

import queue
import threading
import time
import uuid

from django.db import connection

from orders.services import order_place
from orders.tests.factories import ADDRESS


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s")
        time.sleep(0.01)


def blocked_by(pid, holder_pid):
    """Whether backend `pid` waits for a lock that backend `holder_pid` holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [holder_pid, pid])
        return cursor.fetchone()[0]


class CheckoutThread(threading.Thread):
    """order_place on a connection of its own; `pids` gets that connection's backend first."""

    def __init__(self, user, signature):
        super().__init__(daemon=True)
        self.user, self.signature = user, signature
        self.pids = queue.Queue()
        self.result = self.error = None

    def run(self):
        try:
            self.pids.put(backend_pid())
            self.result = order_place(
                user=self.user, shipping=ADDRESS, token=uuid.uuid4(), signature=self.signature
            )
        except Exception as exc:
            self.error = exc
        finally:
            connection.close()
