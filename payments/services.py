"""Taking payment for orders: sessions, webhooks, fulfilment, refunds, clean-up.

The webhook is the source of truth. Fulfilment is idempotent and runs under the payment's row
lock, so the webhook, the success page and reconcile_payments can all apply the same session
without paying an order twice. Calls to the provider happen outside database transactions.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.exceptions import IllegalTransition, OrderError
from orders.models import Order, OrderStatus
from orders.services import order_cancel, order_transition
from payments.models import Payment, PaymentStatus, WebhookEvent
from payments.providers import (
    Charge,
    Event,
    GatewayError,
    IdempotencyConflict,
    MalformedEvent,
    PaymentProvider,
    Session,
    provider,
    session_amount,
    session_is_paid,
    session_line_items,
)
from shop.money import fits_currency, to_minor_units

logger = logging.getLogger(__name__)

EXPIRY_MARGIN = timedelta(minutes=2)  # do not send a shopper to a session about to expire
MIN_SESSION = timedelta(minutes=30)  # the shortest session Stripe makes
SOURCE = "payment provider"


class PaymentUnavailable(Exception):
    """Payment cannot start now; the message says what the shopper can do."""


# --- Starting a payment ------------------------------------------------------------------------


def payment_start(*, order: Order, success_url: str, cancel_url: str) -> Payment:
    """The open session to send the shopper to: the current one, or a new attempt.

    `success_url` may contain {CHECKOUT_SESSION_ID}, which the provider fills in. The attempt is
    recorded (with everything the request to the provider is made from) before the provider is
    called, so a retry after a lost answer sends the same request under the same idempotency
    key and gets the same session. The order is checked again, under its row lock, before the
    session is handed out: one cancelled meanwhile gets no session (it is expired at once).
    """
    payment_provider = provider()
    for _ in range(2):
        payment = _attempt_reserve(order, payment_provider.name)
        if payment.status == PaymentStatus.OPEN:
            return payment
        try:
            session = payment_provider.create_session(
                order=payment.order,
                attempt=payment.attempt,
                success_url=success_url,
                cancel_url=cancel_url,
                expires_at=payment.expires_at,
            )
        except IdempotencyConflict as exc:
            # The first try of this attempt went out with other parameters (another host name
            # in the return URLs): that session was never handed out, so start a new attempt.
            logger.warning("payment attempt %s of order %s abandoned: %s",
                           payment.attempt, order.number, exc)  # fmt: skip
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.STARTING).update(
                status=PaymentStatus.EXPIRED, updated=timezone.now()
            )
            continue
        except GatewayError as exc:
            logger.error("payment session for order %s failed: %s", order.number, exc)
            raise PaymentUnavailable(
                "We could not reach the payment service. Your order is saved and its items are "
                "set aside: please try again in a minute."
            ) from exc
        return _attempt_open(payment, session, payment_provider)
    raise PaymentUnavailable("Payment could not be started just now: please try again.")


def _session_request(order: Order) -> int:
    """The amount the provider will be asked for, in minor units, checked against the order.

    Lines are sent in minor units; if a figure has more decimals than the currency (a price
    from before the rule, or typed into the database), or the lines would not add up to the
    order's total, the shopper would be charged something else than the order says, so payment
    is refused instead.
    """
    amount = session_amount(session_line_items(order))
    figures = [order.total, order.shipping, order.tax, *(item.net for item in order.items.all())]
    fits = all(fits_currency(figure, order.currency) for figure in figures)
    if not fits or amount != to_minor_units(order.total, order.currency):
        logger.error(
            "order %s: its lines come to %s minor units of %s but its total is %s; "
            "prices must not have more decimals than the currency",
            order.number, amount, order.currency, order.total,
        )  # fmt: skip
        raise PaymentUnavailable(
            f"Order {order.number} cannot be paid online just now. Please contact us: your "
            "order is saved and nothing was charged."
        )
    return amount


@transaction.atomic
def _attempt_reserve(order: Order, provider_name: str) -> Payment:
    """Under the order's row lock: the open session, the attempt being started, or a new one."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.PENDING_PAYMENT:
        raise PaymentUnavailable(f"Order {locked.number} is {locked.get_status_display().lower()}.")
    now = timezone.now()
    latest = locked.payments.order_by("-attempt").first()
    if latest is not None:
        if latest.status == PaymentStatus.OPEN and latest.expires_at > now + EXPIRY_MARGIN:
            return latest
        # A start that did not finish (its answer was lost): the same request again, as long as
        # the session it asks for would still be open long enough to pay in.
        if latest.status == PaymentStatus.STARTING:
            if latest.expires_at > now + MIN_SESSION + EXPIRY_MARGIN:
                return latest
            latest.status = PaymentStatus.EXPIRED
            latest.save(update_fields=["status", "updated"])
    payment = Payment.objects.create(
        order=locked,
        provider=provider_name,
        attempt=(latest.attempt if latest else 0) + 1,
        status=PaymentStatus.STARTING,
        expires_at=now + timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES),
        amount=locked.total,
        amount_minor=_session_request(locked),
        currency=locked.currency,
    )
    return payment


def _attempt_open(payment: Payment, session: Session, payment_provider: PaymentProvider) -> Payment:
    """Record the session the provider made, if its order may still be paid; else expire it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().select_related("order").get(pk=payment.pk)
        if payment.status == PaymentStatus.OPEN and payment.session_id == session.id:
            return payment  # a simultaneous request for the same attempt recorded it first
        if payment.status == PaymentStatus.STARTING and order.status == OrderStatus.PENDING_PAYMENT:
            payment.session_id, payment.url = session.id, session.url
            payment.expires_at = session.expires_at or payment.expires_at
            payment.status = PaymentStatus.OPEN
            payment.save(update_fields=["session_id", "url", "expires_at", "status", "updated"])
            return payment
        # The order was cancelled (or this attempt given up) while the session was being made.
        # Keep the session's id, so a payment made on it anyway is found and refunded.
        if payment.session_id is None:
            payment.session_id = session.id
            payment.status = PaymentStatus.EXPIRED
            payment.save(update_fields=["session_id", "status", "updated"])
    try:
        payment_provider.expire_session(session.id)
    except GatewayError as exc:
        logger.warning("session %s of order %s could not be expired: %s",
                       session.id, order.number, exc)  # fmt: skip
    raise PaymentUnavailable(f"Order {order.number} is {order.get_status_display().lower()}.")


# --- Applying what the provider tells us -------------------------------------------------------


def _amount_matches(payment: Payment, session: Session) -> bool:
    """The provider collected exactly what it was asked to, in the order's currency."""
    return (
        session.amount_total == payment.amount_minor
        and session.currency.upper() == payment.currency.upper()
    )


def _refund_automatically(payment: Payment, reason: str) -> None:
    """Money the order cannot keep: refund it after commit, and say why (shopper and staff)."""
    payment.status = PaymentStatus.REFUND_PENDING
    payment.refund_reason = reason[:255]
    payment.save(update_fields=["status", "payment_intent", "refund_reason", "updated"])
    transaction.on_commit(lambda: refund_send(payment_id=payment.pk), robust=True)


def _fulfil(payment: Payment, session: Session) -> str:
    """The session was paid. Mark the order paid, or give the money back if it cannot ship."""
    order = payment.order
    # Applied once, whoever comes first (webhook, success page, reconcile_payments): applying
    # it again would find the order paid and refund the money that paid it.
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUNDED):
        return f"already applied to order {order.number}"
    payment.payment_intent = session.payment_intent or payment.payment_intent
    if not _amount_matches(payment, session):
        reason = (
            f"the payment ({session.amount_total} {session.currency}) did not match what was "
            f"asked for ({payment.amount_minor} {payment.currency}, in minor units)"
        )
        _refund_automatically(payment, reason)
        logger.error("payment %s for order %s refunded automatically: %s",
                     payment.session_id, order.number, reason)  # fmt: skip
        return f"amount mismatch: refunding automatically, order {order.number} left unpaid"
    try:
        order_transition(order=order, to=OrderStatus.PAID, source=SOURCE, note=payment.session_id)
    except IllegalTransition:
        # Money for an order that will not ship (cancelled, or paid by another session).
        reason = f"order was {order.get_status_display().lower()} when this payment arrived"
        _refund_automatically(payment, reason)
        logger.warning("payment %s refunded automatically: %s", payment.session_id, reason)
        return f"refunding automatically: {reason}"
    payment.status = PaymentStatus.PAID
    payment.save(update_fields=["status", "payment_intent", "updated"])
    return f"order {order.number} paid"


def _another_attempt_live(payment: Payment) -> bool:
    """Whether the order has a newer session open, or one being made, besides this payment."""
    return (
        payment.order.payments.exclude(pk=payment.pk)
        .filter(status__in=(PaymentStatus.OPEN, PaymentStatus.STARTING))
        .exists()
    )


def _payment_failed(payment: Payment) -> str:
    if payment.status != PaymentStatus.OPEN:
        return f"payment already {payment.status}"
    payment.status = PaymentStatus.FAILED
    payment.save(update_fields=["status", "updated"])
    if _another_attempt_live(payment):
        return f"payment failed; order {payment.order.number} has a newer session"
    try:
        order_transition(
            order=payment.order,
            to=OrderStatus.PAYMENT_FAILED,
            source=SOURCE,
            note=payment.session_id,
        )
    except OrderError:
        return f"payment failed; order {payment.order.number} already {payment.order.status}"
    return f"order {payment.order.number} payment failed, stock back"


def _expired(payment: Payment, cancel_order: bool = True) -> str:
    if payment.status != PaymentStatus.OPEN:
        return f"payment already {payment.status}"
    payment.status = PaymentStatus.EXPIRED
    payment.save(update_fields=["status", "updated"])
    order = payment.order
    if not cancel_order:
        return f"session of order {order.number} expired"
    if _another_attempt_live(payment):
        return f"session expired; order {order.number} has a newer session"
    try:
        order_transition(
            order=order, to=OrderStatus.CANCELLED, source=SOURCE, note="Payment window expired"
        )
    except OrderError:
        return f"session expired; order {order.number} already {order.status}"
    return f"order {order.number} expired unpaid, stock back"


def _refunded(payment: Payment, charge: Charge) -> str:
    if payment.status == PaymentStatus.REFUNDED:
        return "refund already recorded"
    if charge.amount_refunded < charge.amount:
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


def _locked_payment(**lookup: str) -> Payment | None:
    return Payment.objects.select_for_update().select_related("order").filter(**lookup).first()


def session_apply(*, session: Session, cancel_on_expiry: bool = True) -> str:
    """Bring our records in line with a session as the provider reports it. Idempotent."""
    with transaction.atomic():
        payment = _locked_payment(session_id=session.id)
        if payment is None:
            return f"unknown session {session.id}"
        if session_is_paid(session):
            return _fulfil(payment, session)
        if session.status == "expired":
            return _expired(payment, cancel_order=cancel_on_expiry)
        return f"session {session.status}, payment {session.payment_status}: nothing to do"


# --- Webhooks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    status: int
    message: str


def _handle(event: Event) -> str:
    kind, session, charge = event.type, event.session, event.charge
    if not event.object_id:
        return f"{kind} without an object id: ignored"
    if session is not None:
        with transaction.atomic():
            payment = _locked_payment(session_id=session.id)
            if payment is None:
                return f"unknown session {session.id}: ignored"
            if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
                if session_is_paid(session):
                    return _fulfil(payment, session)
                if session.status == "complete" and session.payment_status == "unpaid":
                    return f"order {payment.order.number}: paid later (delayed payment method)"
                return (
                    f"session {session.status}, payment {session.payment_status}: not paid, "
                    f"order {payment.order.number} unchanged"
                )
            if kind == "checkout.session.async_payment_failed":
                return _payment_failed(payment)
            if kind == "checkout.session.expired":
                return _expired(payment)
    if charge is not None:
        with transaction.atomic():
            payment = _locked_payment(payment_intent=charge.payment_intent or "-")
            if payment is None:
                return f"refund for unknown payment {charge.payment_intent or '-'}: ignored"
            return _refunded(payment, charge)
    return f"{kind}: not handled"


def webhook_receive(*, body: bytes, signature: str | None) -> WebhookResult:
    """Verify, record once, and apply a provider event. The answer is what the provider sees."""
    payment_provider = provider()
    if not payment_provider.verify_webhook(body=body, signature=signature):
        return WebhookResult(400, "invalid signature")
    try:
        event = payment_provider.parse_webhook(body)
    except MalformedEvent as exc:
        logger.warning("signed webhook refused: %s", exc)
        return WebhookResult(400, f"malformed event: {exc}")
    with transaction.atomic():
        # A second delivery of this id, even one arriving at the same moment, waits on the
        # unique index and then finds the row: it is answered without being acted on.
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    event_id=event.id, type=event.type, object_id=event.object_id
                )
        except IntegrityError:
            return WebhookResult(200, "duplicate: already received")
        outcome = _handle(event)
        record.processed = timezone.now()
        record.outcome = outcome[:500]
        record.save(update_fields=["processed", "outcome"])
    logger.info("webhook %s %s: %s", event.type, event.id, outcome)
    return WebhookResult(200, outcome)


# --- Refunds, cancellation, clean-up -----------------------------------------------------------


def refund_send(*, payment_id: int) -> bool:
    """Ask the provider to refund a payment marked refund_pending. Safe to call again."""
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status != PaymentStatus.REFUND_PENDING:
        return False
    try:
        provider().refund(payment=payment, idempotency_key=f"refund-payment-{payment.pk}")
    except GatewayError as exc:
        logger.error("refund of %s (order %s) failed, reconcile_payments will retry: %s",
                     payment.session_id, payment.order.number, exc)  # fmt: skip
        return False
    return True


def order_refund(*, order: Order) -> bool:
    """Staff asked to refund a paid order. It becomes `refunded` when the provider confirms.

    Under the order's row lock, so it cannot cross a "mark shipped": an order is either shipped
    or being refunded (shipping waits for the refund, see payments.receivers).
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PAID:
            raise IllegalTransition(locked, OrderStatus.REFUNDED)
        payment = (
            Payment.objects.select_for_update()
            .filter(order=locked, status__in=[PaymentStatus.PAID, PaymentStatus.REFUND_PENDING])
            .filter(refund_reason="")
            .first()
        )
        if payment is None:
            raise OrderError(f"Order {locked.number} has no payment to refund.")
        payment.status = PaymentStatus.REFUND_PENDING
        payment.save(update_fields=["status", "updated"])
    return refund_send(payment_id=payment.pk)


class ProviderUnavailable(OrderError):
    """The payment provider did not answer (or refused): nothing changed, try again later."""


def open_sessions_expire(*, order: Order) -> None:
    """Expire the order's open sessions so they can no longer be paid (before a cancel).

    If one turns out to be paid already, the payment is applied and the cancel is refused.
    """
    payment_provider = provider()
    for payment in order.payments.filter(status=PaymentStatus.OPEN):
        try:
            session = payment_provider.expire_session(payment.session_id)
        except GatewayError as exc:
            raise ProviderUnavailable(
                f"Order {order.number} could not be cancelled just now: the payment service did "
                "not answer. Please try again in a minute."
            ) from exc
        session_apply(session=session, cancel_on_expiry=False)
        if session.status == "complete":
            raise OrderError(f"Order {order.number} has just been paid, so it was not cancelled.")


@dataclass
class Sweep:
    """What a clean-up command did, order by order, so one failure never stops the others.

    Each entry is (order number or session id, what happened). `skipped` needs nothing done;
    `failed` is left as it was, for the next run.
    """

    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def unpaid_orders_release(*, older_than: datetime, dry_run: bool = False) -> Sweep:
    """Cancel orders still awaiting payment that were placed before `older_than`.

    Two runs at once are safe: each order moves once.
    """
    sweep = Sweep()
    stale = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created__lt=older_than)
    for order in stale.order_by("created"):
        if dry_run:
            sweep.done.append((order.number, "would be cancelled"))
            continue
        try:
            order_cancel(order=order, source="release_unpaid_orders", note="Unpaid for too long")
        except ProviderUnavailable as exc:
            reason = f"payment service: {_one_line(exc.__cause__ or exc)}"
            logger.error("release_unpaid_orders: order %s not released: %s", order.number, reason)
            sweep.failed.append((order.number, reason))
        except OrderError as exc:
            # Paid, cancelled or being paid meanwhile: nothing to release.
            logger.info("release_unpaid_orders skipped %s: %s", order.number, exc)
            sweep.skipped.append((order.number, str(exc)))
        except Exception as exc:
            logger.exception("release_unpaid_orders: order %s not released", order.number)
            sweep.failed.append((order.number, _one_line(exc)))
        else:
            sweep.done.append((order.number, "cancelled"))
    return sweep


def payments_reconcile(*, older_than: datetime) -> Sweep:
    """Ask the provider about open sessions of pending orders and pending refunds; apply answers.

    A lost webhook then never leaves a paid order pending. `done` holds what changed.
    """
    sweep = Sweep()
    payment_provider = provider()
    open_payments = Payment.objects.filter(
        status=PaymentStatus.OPEN,
        order__status=OrderStatus.PENDING_PAYMENT,
        created__lt=older_than,
    ).select_related("order")
    for payment in open_payments.order_by("created"):
        what = f"{payment.session_id} (order {payment.order.number})"
        try:
            outcome = session_apply(session=payment_provider.retrieve_session(payment.session_id))
        except GatewayError as exc:
            reason = f"payment service: {_one_line(exc)}"
            logger.error("reconcile_payments: %s not checked: %s", what, reason)
            sweep.failed.append((what, reason))
            continue
        except Exception as exc:
            logger.exception("reconcile_payments: %s failed", what)
            sweep.failed.append((what, _one_line(exc)))
            continue
        if "nothing to do" not in outcome:
            sweep.done.append((payment.session_id, outcome))
    refunds = Payment.objects.filter(
        status=PaymentStatus.REFUND_PENDING, refund_reason__gt=""
    ).select_related("order")
    for payment in refunds.order_by("created"):
        what = f"{payment.session_id} (order {payment.order.number})"
        try:
            sent = refund_send(payment_id=payment.pk)  # logs why when it is not
        except Exception as exc:
            logger.exception("reconcile_payments: refund of %s failed", what)
            sent, reason = False, _one_line(exc)
        else:
            reason = "the payment service did not take the automatic refund"
        if sent:
            sweep.done.append((payment.session_id, "automatic refund sent again"))
        else:
            sweep.failed.append((what, reason))
    return sweep
