"""The local stand-in for Stripe Checkout, for development without Stripe keys.

A page of ours (payments.views.local_checkout) with Pay and Fail buttons stands in for Stripe's.
Sessions are kept in our own Payment rows; the events Stripe would send are built like Stripe's,
signed with STRIPE_WEBHOOK_SECRET and sent through `event_sent` to the same webhook handler.
Refused in production (settings and the payments.E001 system check).
"""

import json
import secrets
import time
from datetime import datetime
from typing import Any

import stripe
from django.conf import settings
from django.dispatch import Signal
from django.urls import reverse

from orders.models import Order
from payments.models import Payment, PaymentStatus
from payments.providers import Event, ProviderRefund, Session
from payments.providers.stripe import event_from_body, signature_is_valid
from shop.money import to_minor_units

# Sent with `body` (bytes) and `signature` for each event the stand-in makes, as Stripe would
# POST it to the webhook. Received by payments.receivers.deliver_stand_in_event: providers sit
# below the services that apply events, so they hand events over rather than call them.
event_sent = Signal()

STATUS = {
    PaymentStatus.STARTING: ("open", "unpaid"),
    PaymentStatus.OPEN: ("open", "unpaid"),
    PaymentStatus.EXPIRED: ("expired", "unpaid"),
    PaymentStatus.FAILED: ("complete", "unpaid"),
}


def _session_object(payment: Payment, status: str, payment_status: str) -> dict[str, Any]:
    return {
        "id": payment.session_id,
        "object": "checkout.session",
        "status": status,
        "payment_status": payment_status,
        "amount_total": to_minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "client_reference_id": payment.order.number,
        "metadata": {"order_id": str(payment.order_id), "order_number": payment.order.number},
        "payment_intent": payment.payment_intent or f"pi_local_{payment.pk}",
        "expires_at": int(payment.expires_at.timestamp()) if payment.expires_at else None,
    }


def _send(kind: str, obj: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "id": f"evt_local_{secrets.token_hex(12)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    )
    signature = stripe.WebhookSignature.generate_signature_header(
        body, settings.STRIPE_WEBHOOK_SECRET
    )
    event_sent.send(sender=LocalProvider, body=body.encode(), signature=signature)


class LocalProvider:
    name = "local"
    development_only = True

    def create_session(
        self,
        *,
        order: Order,
        attempt: int,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
    ) -> Session:
        session_id = f"cs_local_{secrets.token_urlsafe(18)}"
        return Session(
            id=session_id,
            url=reverse("payments:local_checkout", args=[session_id]),
            status="open",
            payment_status="unpaid",
            amount_total=to_minor_units(order.total, order.currency),
            currency=order.currency,
            expires_at=expires_at,
        )

    def retrieve_session(self, session_id: str) -> Session:
        payment = Payment.objects.select_related("order").get(session_id=session_id)
        status, payment_status = STATUS.get(payment.status, ("complete", "paid"))
        obj = _session_object(payment, status, payment_status)
        return Session(
            id=session_id,
            url=payment.url,
            status=status,
            payment_status=payment_status,
            amount_total=obj["amount_total"],
            currency=payment.currency,
            payment_intent=obj["payment_intent"],
            expires_at=payment.expires_at,
        )

    def expire_session(self, session_id: str) -> Session:
        session = self.retrieve_session(session_id)
        if session.status != "open":
            return session
        return Session(**{**session.__dict__, "status": "expired"})

    def refund(
        self,
        *,
        payment: Payment,
        idempotency_key: str,
        amount_minor: int | None = None,
        refund_id: int | None = None,
    ) -> ProviderRefund:
        """A refund of part of the payment succeeds at once, in the answer (no event).

        A refund of the whole payment (the automatic refunds) is confirmed by a charge.refunded
        event, as before.
        """
        refund = ProviderRefund(
            id=f"re_local_{idempotency_key}",
            status="succeeded",
            amount=amount_minor,
            payment_intent=payment.payment_intent,
            ours=refund_id,
        )
        if amount_minor is not None:
            return refund
        amount = to_minor_units(payment.amount, payment.currency)
        charge = {
            "id": f"ch_local_{payment.pk}",
            "object": "charge",
            "payment_intent": payment.payment_intent,
            "amount": amount,
            "amount_refunded": amount,
            "currency": payment.currency.lower(),
            "refunded": True,
        }
        _send("charge.refunded", charge)
        return refund

    # Its events are Stripe's in form and signature, so they are read the same way.

    def verify_webhook(self, *, body: bytes, signature: str | None) -> bool:
        return signature_is_valid(body, signature)

    def parse_webhook(self, body: bytes) -> Event:
        return event_from_body(body)

    # What the stand-in's page does when the shopper presses a button.

    def pay(self, payment: Payment) -> None:
        """Pay: Stripe would now send checkout.session.completed."""
        _send("checkout.session.completed", _session_object(payment, "complete", "paid"))

    def fail(self, payment: Payment) -> None:
        """Fail: as a delayed payment method that was declined."""
        _send(
            "checkout.session.async_payment_failed", _session_object(payment, "complete", "unpaid")
        )
