"""A local stand-in for the Stripe API, so tests run the real SDK over real HTTP.

It speaks the few endpoints the store uses (refunds of any amount, made succeeded, pending or
failed, and refused beyond what was charged), records every request (form fields flattened the
way the SDK encodes them, and headers), honours idempotency keys as Stripe does (the same key with
other parameters is refused), and can be told to fail, to lose its answer, or to let something
happen while it is working on a request, or to hang before answering.
"""

import itertools
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class StripeDouble:
    def __init__(self):
        self.requests = []
        self.sessions = {}
        self.refunds = []
        # The status the next refunds are made with ("succeeded", "pending" or "failed"), and
        # what each payment intent was charged (minor units) when a test says so (charged()).
        self.refund_status = "succeeded"
        self.charges = {}
        self._by_key = {}
        self._failures = []
        self._drops = 0
        self._hangs = 0  # how many requests still to hold; math.inf: all, until release()
        self._hang_seconds = 0
        self._hang_path = ""
        self._released = threading.Event()
        # Called (outside the double's lock) while a request is being handled, before the
        # answer goes back: {(method, path suffix): callable(path)}.
        self.during = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Request-Id", f"req_{next(double._ids)}")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller gave up waiting (a timeout) and closed the connection

            def do_GET(self):
                answer = double.handle("GET", self.path, {}, dict(self.headers))
                double.wait_if_hanging(self.path)
                self._answer(*answer)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                answer = double.handle("POST", self.path, form, dict(self.headers))
                for (method, suffix), hook in list(double.during.items()):
                    if method == "POST" and self.path.split("?")[0].endswith(suffix):
                        hook(self.path)
                double.wait_if_hanging(self.path)
                if double.take_drop():
                    # The work is done but the answer is lost, as when the caller dies or its
                    # connection breaks mid-call.
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._answer(*answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()

    # --- test controls -------------------------------------------------------------------------

    def fail_next(self, status=500, message="Something went wrong on Stripe's end.", path=""):
        """Answer the next request (whose path contains `path`) with this error."""
        self._failures.append((status, message, path))

    def drop_next_answer(self):
        """Handle the next request, then close the connection instead of answering it."""
        with self._lock:
            self._drops += 1

    def take_drop(self):
        with self._lock:
            if self._drops:
                self._drops -= 1
                return True
            return False

    def hang(self, seconds=60, requests=math.inf, path=""):
        """Do the work of the next `requests` requests (all, by default) whose path contains
        `path`, then hold each answer for `seconds` or until release(): Stripe slow or stuck,
        as the caller sees it."""
        with self._lock:
            self._hangs, self._hang_seconds, self._hang_path = requests, seconds, path
            self._released = threading.Event()

    def release(self):
        """Stop hanging; answers being held go out at once."""
        with self._lock:
            self._hangs = 0
            self._released.set()

    def wait_if_hanging(self, path):
        with self._lock:
            if not self._hangs or self._hang_path not in path:
                return
            self._hangs -= 1
            seconds, released = self._hang_seconds, self._released
        released.wait(seconds)

    def complete(self, session_id, payment_status="paid"):
        """The shopper paid (or started a delayed payment) on the hosted page."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status=payment_status)
        session["payment_intent"] = f"pi_{session_id}"
        if payment_status == "paid":
            self.charges[session["payment_intent"]] = session["amount_total"]
        return session

    def charged(self, payment_intent, amount):
        """The payment intent was charged `amount` minor units: refunds beyond it are refused."""
        self.charges[payment_intent] = amount

    def refund_in_dashboard(self, payment_intent, amount):
        """Staff refunded money in Stripe's dashboard, not through the store."""
        with self._lock:
            return self._make_refund(payment_intent, amount, {})

    def settle(self, refund_id, status, failure_reason=None):
        """A pending refund succeeded or failed at the bank; the refund object as it is now."""
        refund = next(r for r in self.refunds if r["id"] == refund_id)
        refund.update(status=status, failure_reason=failure_reason)
        return refund

    def charge(self, payment_intent):
        """The charge object of a charge.refunded event, its refunds listed (as API versions
        that expand them do) or not."""
        refunds = [r for r in self.refunds if r["payment_intent"] == payment_intent]
        return {
            "id": f"ch_{payment_intent}",
            "object": "charge",
            "payment_intent": payment_intent,
            "amount": self.charges.get(payment_intent, 0),
            "amount_refunded": sum(r["amount"] for r in refunds if r["status"] != "failed"),
            "refunded": False,
            "refunds": {"object": "list", "data": refunds},
        }

    def calls(self, method, path_prefix):
        return [
            r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)
        ]

    # --- the API -------------------------------------------------------------------------------

    def handle(self, method, path, form, headers):
        with self._lock:
            self.requests.append({"method": method, "path": path, "form": form, "headers": headers})
            for failure in self._failures:
                status, message, failing_path = failure
                if failing_path in path:
                    self._failures.remove(failure)
                    return status, {"error": {"type": "api_error", "message": message}}
            key = headers.get("Idempotency-Key")
            if key and (method, path, key) in self._by_key:
                sent, answer = self._by_key[(method, path, key)]
                if sent != form:
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the "
                            "same parameters they were first used with.",
                        }
                    }
                return answer
            answer = self._route(method, path, form)
            if key:
                self._by_key[(method, path, key)] = (form, answer)
            return answer

    def _route(self, method, path, form):
        parts = path.split("?")[0].strip("/").split("/")
        if method == "POST" and parts == ["v1", "checkout", "sessions"]:
            return 200, self._create_session(form)
        if parts[:3] == ["v1", "checkout", "sessions"] and len(parts) >= 4:
            session = self.sessions.get(parts[3])
            if session is None:
                return 404, {
                    "error": {"type": "invalid_request_error", "message": "No such session"}
                }
            if method == "GET" and len(parts) == 4:
                return 200, session
            if method == "POST" and parts[4:] == ["expire"]:
                if session["status"] != "open":
                    return 400, {
                        "error": {
                            "type": "invalid_request_error",
                            "message": f"Only open sessions can be expired: {session['status']}",
                        }
                    }
                session["status"] = "expired"
                return 200, session
        if method == "POST" and parts == ["v1", "refunds"]:
            payment_intent = form.get("payment_intent")
            charged = self.charges.get(payment_intent)
            refunded = sum(
                r["amount"]
                for r in self.refunds
                if r["payment_intent"] == payment_intent and r["status"] != "failed"
            )
            amount = int(form["amount"]) if "amount" in form else (charged or 0) - refunded
            if charged is not None and refunded + amount > charged:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_exceeds_source_limit",
                        "message": f"Refund amount ({amount}) is greater than unrefunded "
                        f"amount on charge ({charged - refunded})",
                    }
                }
            metadata = {
                key[len("metadata[") : -1]: value
                for key, value in form.items()
                if key.startswith("metadata[")
            }
            return 200, self._make_refund(payment_intent, amount, metadata)
        return 404, {"error": {"type": "invalid_request_error", "message": f"No route {path}"}}

    def _make_refund(self, payment_intent, amount, metadata):
        refund = {
            "id": f"re_{next(self._ids)}",
            "object": "refund",
            "amount": amount,
            "status": self.refund_status,
            "failure_reason": "declined" if self.refund_status == "failed" else None,
            "payment_intent": payment_intent,
            "metadata": metadata,
        }
        self.refunds.append(refund)
        return dict(refund)

    def _create_session(self, form):
        session_id = f"cs_test_{next(self._ids)}"
        amount, index = 0, 0
        while f"line_items[{index}][quantity]" in form:
            quantity = int(form[f"line_items[{index}][quantity]"])
            amount += quantity * int(form[f"line_items[{index}][price_data][unit_amount]"])
            index += 1
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": form.get("line_items[0][price_data][currency]"),
            "client_reference_id": form.get("client_reference_id"),
            "customer_email": form.get("customer_email"),
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in form.items()
                if key.startswith("metadata[")
            },
            "expires_at": int(form.get("expires_at") or time.time() + 3600),
            "payment_intent": None,
        }
        self.sessions[session_id] = session
        return session
