"""Taking payment for orders: sessions, webhooks, fulfilment, refunds, clean-up.

The webhook is the source of truth. Fulfilment is idempotent and runs under the payment's row
lock, so the webhook, the success page and reconcile_payments can all apply the same session
without paying an order twice. Calls to the provider happen outside database transactions.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.exceptions import IllegalTransition, OrderError
from orders.models import Order, OrderStatus
from orders.services import order_cancel, order_transition
from payments.gateways import GatewayError, gateway, session_from_provider
from payments.models import Payment, PaymentStatus, WebhookEvent
from payments.money import to_minor_units

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE = 300  # seconds, as Stripe's own libraries use
EXPIRY_MARGIN = timedelta(minutes=2)  # do not send a shopper to a session about to expire
SOURCE = "payment provider"


class PaymentUnavailable(Exception):
    """Payment cannot start now; the message says what the shopper can do."""


# --- Starting a payment ------------------------------------------------------------------------


def payment_start(*, order, success_url, cancel_url):
    """The open session to send the shopper to: the current one, or a new attempt.

    `success_url` may contain {CHECKOUT_SESSION_ID}, which the provider fills in.
    """
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise PaymentUnavailable(f"Order {order.number} is {order.get_status_display().lower()}.")
    current = (
        order.payments.filter(
            status=PaymentStatus.OPEN, expires_at__gt=timezone.now() + EXPIRY_MARGIN
        )
        .order_by("-attempt")
        .first()
    )
    if current:
        return current
    attempt = (
        order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
    ) + 1
    provider = gateway()
    try:
        session = provider.create_session(
            order=order,
            attempt=attempt,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=timezone.now() + timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES),
        )
    except GatewayError as exc:
        logger.error("payment session for order %s failed: %s", order.number, exc)
        raise PaymentUnavailable(
            "We could not reach the payment service. Your order is saved and its items are "
            "set aside: please try again in a minute."
        ) from exc
    try:
        with transaction.atomic():
            return Payment.objects.create(
                order=order,
                provider=provider.name,
                attempt=attempt,
                session_id=session.id,
                url=session.url,
                expires_at=session.expires_at,
                amount=order.total,
                currency=order.currency,
            )
    except IntegrityError:
        # A simultaneous request made this attempt already (the same idempotency key gave the
        # same session): use that one.
        return Payment.objects.get(order=order, attempt=attempt)


# --- Applying what the provider tells us -------------------------------------------------------


def _amount_matches(payment, session):
    return (
        session.amount_total == to_minor_units(payment.order.total, payment.order.currency)
        and session.currency.upper() == payment.order.currency.upper()
    )


def _fulfil(payment, session):
    """The session was paid. Mark the order paid, or give the money back if it cannot ship."""
    order = payment.order
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUNDED):
        return f"already applied to order {order.number}"
    payment.payment_intent = session.payment_intent or payment.payment_intent
    if not _amount_matches(payment, session):
        payment.status = PaymentStatus.MISMATCH
        payment.save(update_fields=["status", "payment_intent", "updated"])
        logger.error(
            "payment %s for order %s: paid %s %s, expected %s %s; order left unpaid",
            payment.session_id,
            order.number,
            session.amount_total,
            session.currency,
            to_minor_units(order.total, order.currency),
            order.currency,
        )
        return f"amount mismatch: order {order.number} left unpaid"
    try:
        order_transition(order=order, to=OrderStatus.PAID, source=SOURCE, note=payment.session_id)
    except IllegalTransition:
        # Money for an order that will not ship (cancelled, or paid by another session).
        reason = f"order was {order.get_status_display().lower()} when this payment arrived"
        payment.status = PaymentStatus.REFUND_PENDING
        payment.refund_reason = reason
        payment.save(update_fields=["status", "payment_intent", "refund_reason", "updated"])
        transaction.on_commit(lambda: refund_send(payment_id=payment.pk), robust=True)
        logger.warning("payment %s refunded automatically: %s", payment.session_id, reason)
        return f"refunding automatically: {reason}"
    payment.status = PaymentStatus.PAID
    payment.save(update_fields=["status", "payment_intent", "updated"])
    return f"order {order.number} paid"


def _payment_failed(payment):
    if payment.status != PaymentStatus.OPEN:
        return f"payment already {payment.status}"
    payment.status = PaymentStatus.FAILED
    payment.save(update_fields=["status", "updated"])
    try:
        order_transition(
            order=payment.order,
            to=OrderStatus.PAYMENT_FAILED,
            source=SOURCE,
            note=payment.session_id,
        )
    except IllegalTransition:
        return f"payment failed; order {payment.order.number} already {payment.order.status}"
    return f"order {payment.order.number} payment failed, stock back"


def _expired(payment, cancel_order=True):
    if payment.status != PaymentStatus.OPEN:
        return f"payment already {payment.status}"
    payment.status = PaymentStatus.EXPIRED
    payment.save(update_fields=["status", "updated"])
    order = payment.order
    if not cancel_order:
        return f"session of order {order.number} expired"
    if order.payments.filter(status=PaymentStatus.OPEN).exists():
        return f"session expired; order {order.number} has a newer session"
    try:
        order_transition(
            order=order, to=OrderStatus.CANCELLED, source=SOURCE, note="Payment window expired"
        )
    except IllegalTransition:
        return f"session expired; order {order.number} already {order.status}"
    return f"order {order.number} expired unpaid, stock back"


def _refunded(payment, charge):
    if payment.status == PaymentStatus.REFUNDED:
        return "refund already recorded"
    if charge.get("amount_refunded", 0) < charge.get("amount", 0):
        return f"partial refund on order {payment.order.number}: recorded, order unchanged"
    was_automatic = bool(payment.refund_reason)
    payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["status", "updated"])
    if was_automatic:
        return f"automatic refund done: {payment.refund_reason}"
    try:
        order_transition(order=payment.order, to=OrderStatus.REFUNDED, source=SOURCE)
    except IllegalTransition:
        return f"refund recorded; order {payment.order.number} is {payment.order.status}"
    return f"order {payment.order.number} refunded"


def _locked_payment(**lookup):
    return Payment.objects.select_for_update().select_related("order").filter(**lookup).first()


def session_apply(*, session, cancel_on_expiry=True):
    """Bring our records in line with a session as the provider reports it. Idempotent."""
    with transaction.atomic():
        payment = _locked_payment(session_id=session.id)
        if payment is None:
            return f"unknown session {session.id}"
        if session.status == "complete" and session.payment_status in (
            "paid",
            "no_payment_required",
        ):
            return _fulfil(payment, session)
        if session.status == "expired":
            return _expired(payment, cancel_order=cancel_on_expiry)
        return f"session {session.status}, payment {session.payment_status}: nothing to do"


# --- Webhooks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    status: int
    message: str


def _verify(body, signature):
    """The event, if the body is signed with our secret within the tolerance; else None."""
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"),
            signature or "",
            settings.STRIPE_WEBHOOK_SECRET,
            SIGNATURE_TOLERANCE,
        )
        event = json.loads(body)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return None
    # The SDK accepts timestamps from the future; a replay window should not.
    stamp = dict(part.split("=", 1) for part in signature.split(",") if "=" in part).get("t", "0")
    if not stamp.isdigit() or int(stamp) > time.time() + SIGNATURE_TOLERANCE:
        return None
    return event if isinstance(event, dict) else None


def _handle(event):
    kind, obj = event["type"], event["data"]["object"]
    if not obj.get("id"):
        return f"{kind} without an object id: ignored"
    if kind.startswith("checkout.session."):
        session = session_from_provider(obj)
        with transaction.atomic():
            payment = _locked_payment(session_id=session.id)
            if payment is None:
                return f"unknown session {session.id}: ignored"
            if kind == "checkout.session.completed":
                if session.payment_status == "unpaid":
                    return f"order {payment.order.number}: paid later (delayed payment method)"
                return _fulfil(payment, session)
            if kind == "checkout.session.async_payment_succeeded":
                return _fulfil(payment, session)
            if kind == "checkout.session.async_payment_failed":
                return _payment_failed(payment)
            if kind == "checkout.session.expired":
                return _expired(payment)
    if kind == "charge.refunded":
        with transaction.atomic():
            payment = _locked_payment(payment_intent=obj.get("payment_intent") or "-")
            if payment is None:
                return f"refund for unknown payment {obj.get('payment_intent')}: ignored"
            return _refunded(payment, obj)
    return f"{kind}: not handled"


def webhook_receive(*, body, signature):
    """Verify, record once, and apply a provider event. The answer is what the provider sees."""
    event = _verify(body, signature)
    if event is None:
        return WebhookResult(400, "invalid signature or payload")
    try:
        event_id, kind = str(event["id"]), str(event["type"])
        object_id = str(event["data"]["object"].get("id", ""))
    except (KeyError, TypeError, AttributeError):
        return WebhookResult(400, "malformed event")
    with transaction.atomic():
        # A second delivery of this id, even one arriving at the same moment, waits on the
        # unique index and then finds the row: it is answered without being acted on.
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    event_id=event_id, type=kind, object_id=object_id
                )
        except IntegrityError:
            return WebhookResult(200, "duplicate: already received")
        outcome = _handle(event)
        record.processed = timezone.now()
        record.outcome = outcome[:500]
        record.save(update_fields=["processed", "outcome"])
    logger.info("webhook %s %s: %s", kind, event_id, outcome)
    return WebhookResult(200, outcome)


# --- Refunds, cancellation, clean-up -----------------------------------------------------------


def refund_send(*, payment_id):
    """Ask the provider to refund a payment marked refund_pending. Safe to call again."""
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status != PaymentStatus.REFUND_PENDING:
        return False
    try:
        gateway().refund(payment=payment, idempotency_key=f"refund-payment-{payment.pk}")
    except GatewayError as exc:
        logger.error(
            "refund of %s failed, reconcile_payments will retry: %s", payment.session_id, exc
        )
        return False
    return True


def order_refund(*, order):
    """Staff asked to refund a paid order. It becomes `refunded` when the provider confirms."""
    if order.status != OrderStatus.PAID:
        raise IllegalTransition(order, OrderStatus.REFUNDED)
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(order=order, status__in=[PaymentStatus.PAID, PaymentStatus.REFUND_PENDING])
            .first()
        )
        if payment is None:
            raise OrderError(f"Order {order.number} has no payment to refund.")
        payment.status = PaymentStatus.REFUND_PENDING
        payment.save(update_fields=["status", "updated"])
    return refund_send(payment_id=payment.pk)


def open_sessions_expire(*, order):
    """Expire the order's open sessions so they can no longer be paid (before a cancel).

    If one turns out to be paid already, the payment is applied and the cancel is refused.
    """
    provider = gateway()
    for payment in order.payments.filter(status=PaymentStatus.OPEN):
        try:
            session = provider.expire_session(payment.session_id)
        except GatewayError as exc:
            raise OrderError(
                f"Order {order.number} could not be cancelled just now: the payment service did "
                "not answer. Please try again in a minute."
            ) from exc
        session_apply(session=session, cancel_on_expiry=False)
        if session.status == "complete":
            raise OrderError(f"Order {order.number} has just been paid, so it was not cancelled.")


def unpaid_orders_release(*, older_than, dry_run=False):
    """Cancel orders still awaiting payment that were placed before `older_than`.

    Returns the numbers cancelled. Two runs at once are safe: each order moves once.
    """
    cancelled = []
    stale = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created__lt=older_than)
    for order in stale.order_by("created"):
        if dry_run:
            cancelled.append(order.number)
            continue
        try:
            order_cancel(order=order, source="release_unpaid_orders", note="Unpaid for too long")
        except OrderError as exc:
            logger.info("release_unpaid_orders skipped %s: %s", order.number, exc)
            continue
        cancelled.append(order.number)
    return cancelled


def payments_reconcile(*, older_than):
    """Ask the provider about open sessions of pending orders and pending refunds; apply answers.

    A lost webhook then never leaves a paid order pending. Returns (session id, outcome) pairs.
    """
    changes = []
    provider = gateway()
    open_payments = Payment.objects.filter(
        status=PaymentStatus.OPEN,
        order__status=OrderStatus.PENDING_PAYMENT,
        created__lt=older_than,
    )
    for payment in open_payments.order_by("created"):
        try:
            session = provider.retrieve_session(payment.session_id)
        except GatewayError as exc:
            changes.append((payment.session_id, f"could not ask the provider: {exc}"))
            continue
        outcome = session_apply(session=session)
        if "nothing to do" not in outcome:
            changes.append((payment.session_id, outcome))
    for payment in Payment.objects.filter(
        status=PaymentStatus.REFUND_PENDING, refund_reason__gt=""
    ):
        if refund_send(payment_id=payment.pk):
            changes.append((payment.session_id, "automatic refund sent again"))
    return changes
