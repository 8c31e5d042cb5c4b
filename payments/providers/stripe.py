"""Stripe Checkout through the official SDK, and reading Stripe's webhook events.

The event reading is shared with the local stand-in, which signs its events the way Stripe does.
"""

import functools
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

from orders.models import Order
from payments.models import Payment
from payments.providers import (
    Charge,
    Event,
    GatewayError,
    IdempotencyConflict,
    MalformedEvent,
    ProviderRefund,
    RefundDeclined,
    Session,
    session_line_items,
)

SIGNATURE_TOLERANCE = 300  # seconds, as Stripe's own libraries use
EVENT_ID = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, as Stripe's ids are
EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,100}")


# --- Reading Stripe's objects ------------------------------------------------------------------


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def text_field(obj: dict[str, Any], key: str, max_length: int = 255) -> str:
    """A string field of a Stripe object: missing is "", anything but plain text is refused."""
    value = obj.get(key) or ""
    if not isinstance(value, str) or len(value) > max_length or not value.isprintable():
        raise ValueError(f"{key} is not a usable string")
    return value


def integer_field(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError(f"{key} is not a whole number")
    return value


def session_from_stripe(obj: Any) -> Session:
    """A Session from Stripe's checkout.session object (from the API or inside an event).

    ValueError if a field the store reads has the wrong type or shape.
    """
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    payment_intent = obj.get("payment_intent")
    if isinstance(payment_intent, dict):  # expanded object
        payment_intent = text_field(payment_intent, "id")
    else:
        payment_intent = text_field(obj, "payment_intent")
    expires_at = integer_field(obj, "expires_at")
    return Session(
        id=text_field(obj, "id"),
        url=text_field(obj, "url", max_length=2000),
        status=text_field(obj, "status", max_length=50),
        payment_status=text_field(obj, "payment_status", max_length=50),
        amount_total=integer_field(obj, "amount_total"),
        currency=text_field(obj, "currency", max_length=3).upper(),
        payment_intent=payment_intent,
        expires_at=_timestamp(expires_at),
    )


def refund_from_stripe(obj: Any) -> ProviderRefund:
    """A ProviderRefund from Stripe's refund object. ValueError if a field has the wrong type."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not an object")
    ours = text_field(metadata, "refund_id", max_length=20)
    payment_intent = obj.get("payment_intent")
    if isinstance(payment_intent, dict):  # expanded object
        payment_intent = text_field(payment_intent, "id")
    else:
        payment_intent = text_field(obj, "payment_intent")
    return ProviderRefund(
        id=text_field(obj, "id"),
        status=text_field(obj, "status", max_length=50),
        amount=integer_field(obj, "amount"),
        payment_intent=payment_intent,
        failure=text_field(obj, "failure_reason", max_length=500),
        ours=int(ours) if ours.isdigit() else None,
    )


REFUND_EVENTS = ("charge.refund.updated", "refund.created", "refund.updated", "refund.failed")


# --- Webhook events ----------------------------------------------------------------------------


def signature_is_valid(body: bytes, signature: str | None) -> bool:
    """True if the body is signed with STRIPE_WEBHOOK_SECRET within the tolerance."""
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"),
            signature or "",
            settings.STRIPE_WEBHOOK_SECRET,
            SIGNATURE_TOLERANCE,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        return False
    # The SDK accepts timestamps from the future; a replay window should not.
    stamp = dict(part.split("=", 1) for part in signature.split(",") if "=" in part).get("t", "0")
    return stamp.isdigit() and int(stamp) <= time.time() + SIGNATURE_TOLERANCE


def event_from_body(body: bytes) -> Event:
    """The event in a verified body, with every field the store reads checked for its type."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than Python's
        raise MalformedEvent("not JSON") from exc
    if not isinstance(event, dict):
        raise MalformedEvent("not an event")
    event_id, kind, data = event.get("id"), event.get("type"), event.get("data")
    if not (isinstance(event_id, str) and EVENT_ID.fullmatch(event_id)):
        raise MalformedEvent("bad event id")
    if not (isinstance(kind, str) and EVENT_TYPE.fullmatch(kind)):
        raise MalformedEvent("bad event type")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("no data.object")
    session = charge = refund = None
    try:
        object_id = text_field(obj, "id")
        if kind.startswith("checkout.session."):
            session = session_from_stripe(obj)
        elif kind == "charge.refunded":
            amount, refunded = integer_field(obj, "amount"), integer_field(obj, "amount_refunded")
            if amount is None or refunded is None:
                raise ValueError("amounts missing")
            listed = obj.get("refunds") or {}
            listed = listed.get("data") if isinstance(listed, dict) else None
            if not isinstance(listed, list | None) or not all(
                isinstance(item, dict) for item in listed or ()
            ):
                raise ValueError("refunds is not a list of refunds")
            charge = Charge(
                text_field(obj, "payment_intent"),
                amount,
                refunded,
                tuple(refund_from_stripe(item) for item in listed or ()),
            )
        elif kind in REFUND_EVENTS:
            refund = refund_from_stripe(obj)
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from exc
    return Event(
        id=event_id,
        type=kind,
        object_id=object_id,
        session=session,
        charge=charge,
        refund=refund,
    )


# --- The provider ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _stripe_client(
    api_key: str, api_base: str, connect_timeout: float, read_timeout: float, retries: int
) -> stripe.StripeClient:
    # One client per process and configuration: its HTTP session (one per thread) keeps the
    # connection to Stripe open between calls instead of a TLS handshake each time.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        # The SDK's own default is 80 s per try, longer than a worker lives (see settings).
        http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)),
    )


class StripeProvider:
    name = "stripe"
    development_only = False

    def _client(self) -> stripe.StripeClient:
        return _stripe_client(
            settings.STRIPE_SECRET_KEY,
            settings.STRIPE_API_BASE,
            settings.STRIPE_CONNECT_TIMEOUT,
            settings.STRIPE_READ_TIMEOUT,
            settings.STRIPE_MAX_NETWORK_RETRIES,
        )

    def create_session(
        self,
        *,
        order: Order,
        attempt: int,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
    ) -> Session:
        try:
            session = self._client().v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "line_items": session_line_items(order),
                    "client_reference_id": order.number,
                    "metadata": {"order_id": str(order.pk), "order_number": order.number},
                    "customer_email": order.email,
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "expires_at": int(expires_at.timestamp()),
                },
                options={"idempotency_key": f"order-{order.pk}-attempt-{attempt}"},
            )
        except stripe.IdempotencyError as exc:
            raise IdempotencyConflict(str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return session_from_stripe(session)

    def retrieve_session(self, session_id: str) -> Session:
        try:
            return session_from_stripe(self._client().v1.checkout.sessions.retrieve(session_id))
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc

    def expire_session(self, session_id: str) -> Session:
        client = self._client()
        try:
            return session_from_stripe(client.v1.checkout.sessions.expire(session_id))
        except stripe.InvalidRequestError:
            # Already complete or expired: report what it is, the caller decides.
            return self.retrieve_session(session_id)
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc

    def refund(
        self,
        *,
        payment: Payment,
        idempotency_key: str,
        amount_minor: int | None = None,
        refund_id: int | None = None,
    ) -> ProviderRefund:
        params: dict[str, Any] = {"payment_intent": payment.payment_intent}
        if amount_minor is not None:
            params["amount"] = amount_minor
        if refund_id is not None:
            params["metadata"] = {"refund_id": str(refund_id)}
        try:
            answer = self._client().v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError) as exc:
            # Stripe looked at the request and said no: the same request will not do better.
            raise RefundDeclined(getattr(exc, "user_message", None) or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        try:
            return refund_from_stripe(answer)
        except ValueError as exc:
            raise GatewayError(f"unreadable refund: {exc}") from exc

    def verify_webhook(self, *, body: bytes, signature: str | None) -> bool:
        return signature_is_valid(body, signature)

    def parse_webhook(self, body: bytes) -> Event:
        return event_from_body(body)
