"""Checkouts on threads of their own, and what PostgreSQL says about who waits for whom."""

import queue
import threading
import time

from django.db import connection

from orders.services import order_place


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

    def __init__(self, checkout):
        super().__init__(daemon=True)
        self.checkout = checkout
        self.pids = queue.Queue()
        self.result = self.error = None

    def run(self):
        try:
            self.pids.put(backend_pid())
            self.result = order_place(self.checkout)
        except Exception as exc:
            self.error = exc
        finally:
            connection.close()
