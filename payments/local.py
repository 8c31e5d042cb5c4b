"""The local stand-in for Stripe Checkout: sessions kept in our own Payment rows, events built
like Stripe's, signed with STRIPE_WEBHOOK_SECRET and handed to the real webhook handler."""

import json
import secrets
import time

import stripe
from django.conf import settings

from payments.gateways import Session
from payments.models import Payment, PaymentStatus
from shop.money import to_minor_units

STATUS = {
    PaymentStatus.STARTING: ("open", "unpaid"),
    PaymentStatus.OPEN: ("open", "unpaid"),
    PaymentStatus.EXPIRED: ("expired", "unpaid"),
    PaymentStatus.FAILED: ("complete", "unpaid"),
}


def _session_object(payment, status, payment_status):
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


def session_of(session_id):
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


def expire(session_id):
    session = session_of(session_id)
    if session.status != "open":
        return session
    return Session(**{**session.__dict__, "status": "expired"})


def signed(kind, obj):
    """(body, Stripe-Signature header) for an event of `kind` about `obj`."""
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
    header = stripe.WebhookSignature.generate_signature_header(body, settings.STRIPE_WEBHOOK_SECRET)
    return body, header


def deliver(body, header):
    from payments.services import webhook_receive

    return webhook_receive(body=body.encode(), signature=header)


def pay(payment):
    """The shopper pressed Pay: Stripe would now send checkout.session.completed."""
    return deliver(
        *signed("checkout.session.completed", _session_object(payment, "complete", "paid"))
    )


def fail(payment):
    """The shopper pressed Fail: as a delayed payment method that was declined."""
    return deliver(
        *signed(
            "checkout.session.async_payment_failed", _session_object(payment, "complete", "unpaid")
        )
    )


def deliver_refund(payment):
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
    return deliver(*signed("charge.refunded", charge))
