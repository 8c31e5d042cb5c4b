"""Taking payment for orders: sessions, webhooks, fulfilment, refunds, clean-up.

The webhook is the source of truth. Fulfilment is idempotent and runs under the payment's row
lock, so the webhook, the success page and reconcile_payments can all apply the same session
without paying an order twice. Calls to the provider happen outside database transactions.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from catalog.cache import catalog_changed
from catalog.models import ProductVariant
from catalog.templatetags.money import money
from orders.emails import queue_order_email
from orders.exceptions import IllegalTransition, OrderError
from orders.models import EventKind, Order, OrderEvent, OrderItem, OrderStatus
from orders.services import order_cancel, order_transition
from orders.status import STATUSES
from payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundSource,
    RefundState,
    WebhookEvent,
)
from payments.providers import (
    Charge,
    Event,
    GatewayError,
    IdempotencyConflict,
    MalformedEvent,
    PaymentProvider,
    ProviderRefund,
    RefundDeclined,
    Session,
    provider,
    session_amount,
    session_is_paid,
    session_line_items,
)
from shop.metrics import webhook_failed
from shop.money import fits_currency, minor_unit_exponent, round_money, to_minor_units

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
    if not payment.refund_reason:
        # The money that paid the order: its refunds are Refund records.
        return _charge_refunds_apply(payment, charge)
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
    if event.refund is not None:
        with transaction.atomic():
            payment = _locked_payment(payment_intent=event.refund.payment_intent or "-")
            if payment is None:
                return f"refund for unknown payment {event.refund.payment_intent or '-'}: ignored"
            if payment.refund_reason:
                return "automatic refund: confirmed by charge.refunded"
            order = Order.objects.select_for_update().get(pk=payment.order_id)
            return _provider_refund_apply(payment, order, event.refund)
    return f"{kind}: not handled"


def webhook_receive(*, body: bytes, signature: str | None) -> WebhookResult:
    """Verify, record once, and apply a provider event. The answer is what the provider sees."""
    payment_provider = provider()
    if not payment_provider.verify_webhook(body=body, signature=signature):
        webhook_failed("signature")
        return WebhookResult(400, "invalid signature")
    try:
        event = payment_provider.parse_webhook(body)
    except MalformedEvent as exc:
        logger.warning("signed webhook refused: %s", exc)
        webhook_failed("malformed")
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


def refund_left(order: Order) -> Decimal:
    """What can still be refunded of the order: its total less refunds pending or succeeded."""
    return order.total - _refunded_so_far(order)


def order_refund(*, order: Order, actor=None) -> Refund:
    """Staff asked to refund all that is left of a paid (shipped, delivered) order.

    A refund of the rest through refund_create: the order becomes `refunded` when the provider
    confirms it. RefundRefused if nothing is left to refund or the order cannot be refunded.
    """
    left = refund_left(order)
    if left <= 0:
        raise RefundRefused(f"Order {order.number} has been refunded in full already.")
    return refund_create(
        order=order,
        amount=left,
        restock=False,
        reason="The whole order",
        actor=actor,
        source=RefundSource.BACK_OFFICE,
    )


# --- Refunds of any size -----------------------------------------------------------------------


class RefundRefused(OrderError):
    """Why a refund cannot be made as asked, in words for the staff member asking."""


def _order_payment(order: Order) -> Payment | None:
    """The payment whose money paid the order (automatic refunds return other money)."""
    return (
        order.payments.filter(
            status__in=[PaymentStatus.PAID, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUNDED],
            refund_reason="",
        )
        .order_by("attempt")
        .first()
    )


def _refunded_so_far(order: Order, *, excluding: Refund | None = None) -> Decimal:
    """The money of the order's refunds that are pending or succeeded."""
    refunds = Refund.objects.counting().filter(order=order)
    if excluding is not None:
        refunds = refunds.exclude(pk=excluding.pk)
    return refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def line_charged(item: OrderItem) -> Decimal:
    """What the shopper paid for a whole order line: after its discount, with its tax when
    prices exclude tax (with prices including tax, the tax is part of the line already)."""
    charged = item.line_total - item.discount
    if not item.order.prices_include_tax:
        charged += item.tax
    return charged


def line_refund_amount(item: OrderItem, quantity: int) -> Decimal:
    """The money for `quantity` of the line: its charged amount per unit, rounded once."""
    return round_money(line_charged(item) * quantity / item.quantity, item.order.currency)


def _lines_wanted(
    order: Order, lines: dict[int, int] | None, *, excluding: Refund | None = None
) -> list[tuple[OrderItem, int]]:
    """The (order item, quantity) of `lines`, each checked against what is left of its line:
    bought, minus what refunds that are pending or succeeded gave back already."""
    wanted = {int(pk): int(quantity) for pk, quantity in (lines or {}).items()}
    if not wanted:
        return []
    items = {item.pk: item for item in order.items.select_related("order")}
    done = RefundLine.objects.filter(refund__order=order).exclude(refund__state=RefundState.FAILED)
    if excluding is not None:
        done = done.exclude(refund=excluding)
    refunded = dict(
        done.values("item").annotate(quantity=Sum("quantity")).values_list("item", "quantity")
    )
    chosen = []
    for pk, quantity in sorted(wanted.items()):
        item = items.get(pk)
        if item is None:
            raise RefundRefused(f"Item {pk} is not part of order {order.number}.")
        if quantity <= 0:
            raise RefundRefused(f"Refund at least one of {item.name}, or leave it out.")
        left = item.quantity - refunded.get(pk, 0)
        if quantity > left:
            raise RefundRefused(
                f"At most {left} of {item.name} can still be refunded "
                f"({item.quantity} bought, {item.quantity - left} refunded)."
            )
        chosen.append((item, quantity))
    return chosen


def _amount_checked(order: Order, amount: Decimal, *, excluding: Refund | None = None) -> None:
    """RefundRefused unless `amount` is a positive amount of the currency that fits in what is
    left of the order's money (its total, minus refunds pending or succeeded)."""
    if amount <= 0:
        raise RefundRefused("A refund must be of more than nothing.")
    if not fits_currency(amount, order.currency):
        raise RefundRefused(f"{amount} has more decimals than {order.currency} has.")
    left = order.total - _refunded_so_far(order, excluding=excluding)
    if amount > left:
        if left <= 0:
            raise RefundRefused(f"Order {order.number} has been refunded in full already.")
        raise RefundRefused(f"At most {money(left, order.currency)} can still be refunded.")


def _restock(lines: list[tuple[OrderItem, int]]) -> None:
    for item, quantity in sorted(lines, key=lambda line: line[0].variant_id):
        ProductVariant.objects.filter(pk=item.variant_id).update(stock=F("stock") + quantity)
    catalog_changed()


@dataclass(frozen=True)
class RefundPreview:
    """What a refund would give back, for the page that asks staff to confirm it."""

    amount: Decimal
    lines: list[tuple[OrderItem, int]]
    paid: Decimal
    refunded: Decimal


def _refundable(order: Order) -> None:
    """RefundRefused unless the order's status counts as money the shop holds."""
    if not STATUSES[OrderStatus(order.status)].revenue:
        raise RefundRefused(
            f"Order {order.number} is {order.get_status_display().lower()} and cannot be refunded."
        )


def _refund_asked(
    order: Order, amount: Decimal | None, lines: dict[int, int] | None
) -> tuple[Decimal, list[tuple[OrderItem, int]]]:
    """The amount and the (item, quantity) lines a refund asks for, each checked against what
    is left of the order; RefundRefused says what is wrong."""
    chosen = _lines_wanted(order, lines)
    if amount is None:
        if not chosen:
            raise RefundRefused("Choose the lines to refund, or an amount.")
        amount = sum((line_refund_amount(item, qty) for item, qty in chosen), Decimal("0"))
    amount = Decimal(amount)
    _amount_checked(order, amount)
    return amount, chosen


def refund_preview(
    *, order: Order, amount: Decimal | None = None, lines: dict[int, int] | None = None
) -> RefundPreview:
    """The amount and lines refund_create would refund now, checked the same way (without the
    lock: refund_create checks again under it). RefundRefused says what is wrong."""
    _refundable(order)
    amount, chosen = _refund_asked(order, amount, lines)
    return RefundPreview(amount, chosen, order.total, _refunded_so_far(order))


def refund_create(
    *,
    order: Order,
    amount: Decimal | None = None,
    lines: dict[int, int] | None = None,
    restock: bool,
    reason: str,
    actor=None,
    source: str = RefundSource.BACK_OFFICE,
) -> Refund:
    """Give back money of a paid, shipped or delivered order; the refund, pending.

    `lines` ({order item id: quantity}) says what is refunded; without `amount`, the money is
    what those lines were charged (per unit, rounded to the currency). `amount` alone refunds
    money with no lines (shipping, a goodwill gesture); with lines, it replaces their amount.
    With `restock`, the lines' quantities go back on sale now, in the same transaction.

    Under the order's row lock, so two refunds at once never give back more than was paid, nor
    more of a line than was bought. The provider is asked after commit (refund_dispatch); the
    refund succeeds or fails when it answers, or by webhook. RefundRefused says what is wrong.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _refundable(locked)
        payment = _order_payment(locked)
        if payment is None:
            raise RefundRefused(f"Order {locked.number} has no payment to refund.")
        amount, chosen = _refund_asked(locked, amount, lines)
        refund = Refund.objects.create(
            order=locked,
            payment=payment,
            amount=amount,
            currency=locked.currency,
            restock=restock and bool(chosen),
            reason=reason.strip(),
            requested_by=actor,
            source=source,
        )
        RefundLine.objects.bulk_create(
            RefundLine(refund=refund, item=item, quantity=quantity) for item, quantity in chosen
        )
        if refund.restock:
            _restock(chosen)
        note = f"Refund of {money(amount, locked.currency)} asked"
        if refund.reason:
            note += f": {refund.reason}"
        if refund.restock:
            note += " (items back on sale)"
        OrderEvent.objects.create(
            order=locked,
            kind=EventKind.REFUND,
            actor=actor,
            source=source,
            note=note[:500],
        )
        transaction.on_commit(lambda: refund_dispatch(refund_id=refund.pk), robust=True)
    logger.info("order %s: refund %s of %s %s asked by %s",
                locked.number, refund.pk, amount, locked.currency, source)  # fmt: skip
    return refund


def refund_dispatch(*, refund_id: int) -> Refund:
    """Ask the provider for a pending refund it has not answered yet. Safe to call again: the
    idempotency key (`refund-<id>`) makes a repeat return the same refund."""
    refund = Refund.objects.select_related("payment", "order").get(pk=refund_id)
    if refund.state != RefundState.PENDING or refund.provider_refund_id:
        return refund
    try:
        answer = provider().refund(
            payment=refund.payment,
            idempotency_key=refund.idempotency_key,
            amount_minor=to_minor_units(refund.amount, refund.currency),
            refund_id=refund.pk,
        )
    except RefundDeclined as exc:
        logger.error("refund %s of order %s declined: %s", refund.pk, refund.order.number, exc)
        answer = ProviderRefund(id="", status="failed", failure=_one_line(exc))
    except GatewayError as exc:
        logger.error("refund %s of order %s not sent, reconcile_payments will retry: %s",
                     refund.pk, refund.order.number, exc)  # fmt: skip
        return refund
    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=refund.payment_id)
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        locked.order = order
        _refund_update(locked, answer)
    return locked


def _refund_update(refund: Refund, answer: ProviderRefund) -> str:
    """Apply what the provider says of one of our refunds (its payment, order and own row
    locked, in that order). Succeeded is applied once; a refund the provider failed stays
    failed whatever late news say; a later failure of a succeeded one is recorded."""
    if answer.id and refund.provider_refund_id != answer.id:
        refund.provider_refund_id = answer.id
        refund.save(update_fields=["provider_refund_id", "updated"])
    status = answer.status
    if status == "succeeded" and refund.state == RefundState.PENDING:
        refund.state = RefundState.SUCCEEDED
        refund.save(update_fields=["state", "updated"])
        return _refund_succeeded(refund)
    if status in ("failed", "canceled") and refund.state != RefundState.FAILED:
        refund.state = RefundState.FAILED
        refund.failure = (answer.failure or status)[:500]
        refund.save(update_fields=["state", "failure", "updated"])
        OrderEvent.objects.create(
            order=refund.order,
            kind=EventKind.REFUND,
            source=SOURCE,
            note=f"Refund of {money(refund.amount, refund.currency)} failed: {refund.failure}"[
                :500
            ],
        )
        logger.error("refund %s of order %s failed: %s",
                     refund.pk, refund.order.number, refund.failure)  # fmt: skip
        return f"refund {refund.pk} failed: {refund.failure}"
    return f"refund {refund.pk} {refund.state} (provider says {status})"


def _refund_succeeded(refund: Refund) -> str:
    """A refund went through: on the timeline, and the order `refunded` once all its money is
    back (partial refunds leave its status as it is). Called once per refund, with its payment
    and order locked."""
    order = refund.order
    # Queued with the change (the outbox's worker sends it): the customer learns the amount.
    queue_order_email(order, "refund_issued", items=[], refund=refund)
    OrderEvent.objects.create(
        order=order,
        kind=EventKind.REFUND,
        actor=refund.requested_by,
        source=refund.source,
        note=f"Refund of {money(refund.amount, refund.currency)} made",
    )
    succeeded = order.refunds.filter(state=RefundState.SUCCEEDED).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0")
    if succeeded < order.total:
        return f"refund {refund.pk} succeeded; partial refund, order {order.number} unchanged"
    Payment.objects.filter(pk=refund.payment_id).update(
        status=PaymentStatus.REFUNDED, updated=timezone.now()
    )
    try:
        order_transition(
            order=order,
            to=OrderStatus.REFUNDED,
            actor=refund.requested_by,
            source=refund.source,
            note=f"All {money(order.total, order.currency)} refunded",
        )
    except IllegalTransition:
        return f"refund {refund.pk} succeeded; order {order.number} is {order.status}"
    return f"refund {refund.pk} succeeded; order {order.number} refunded"


def _provider_refund_apply(payment: Payment, order: Order, answer: ProviderRefund) -> str:
    """A refund the provider reports (in an event) on the order's payment: ours, by its id or
    the metadata we sent, or one made in the provider's dashboard, recorded once."""
    refund = (
        Refund.objects.select_for_update()
        .filter(payment=payment)
        .filter(Q(provider_refund_id=answer.id) | Q(pk=answer.ours or 0))
        .first()
    )
    if refund is None:
        if answer.status not in ("succeeded", "pending", "requires_action") or not answer.amount:
            return f"refund {answer.id} {answer.status}: not ours, nothing to record"
        # Recorded earlier from a charge's total, before its id was known: the same refund.
        refund = (
            Refund.objects.select_for_update()
            .filter(
                payment=payment,
                source=RefundSource.PAYMENT_PROVIDER,
                provider_refund_id__isnull=True,
                amount=_from_minor(answer.amount, payment.currency),
            )
            .first()
        )
        if refund is not None:
            refund.provider_refund_id = answer.id
            refund.save(update_fields=["provider_refund_id", "updated"])
            return f"refund {refund.pk}: provider id {answer.id} recorded"
        return _dashboard_refund_record(
            payment, order, answer.amount, provider_refund_id=answer.id, status=answer.status
        )
    refund.order = order
    return _refund_update(refund, answer)


def _from_minor(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency)).quantize(Decimal("0.01"))


def _dashboard_refund_record(
    payment: Payment,
    order: Order,
    amount_minor: int,
    *,
    provider_refund_id: str | None = None,
    status: str = "succeeded",
) -> str:
    """Money given back in the provider's own dashboard: recorded as it is (no lines, nothing
    restocked), even beyond what our records allow, since it is gone already."""
    amount = _from_minor(amount_minor, payment.currency)
    left = refund_left(order)
    if amount > left:
        logger.error("order %s: %s refunded in the payment provider, only %s was left",
                     order.number, amount, left)  # fmt: skip
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason="Refunded in the payment provider's dashboard",
        source=RefundSource.PAYMENT_PROVIDER,
        provider_refund_id=provider_refund_id,
        state=RefundState.PENDING,
    )
    OrderEvent.objects.create(
        order=order,
        kind=EventKind.REFUND,
        source=SOURCE,
        note=f"Refund of {money(amount, payment.currency)} made in the payment provider",
    )
    if status != "succeeded":
        return f"refund {refund.pk} made in the payment provider: {status}"
    refund.order = order
    return _refund_update(refund, ProviderRefund(id=provider_refund_id or "", status=status))


def _charge_refunds_apply(payment: Payment, charge: Charge) -> str:
    """charge.refunded on the order's payment: the refunds it lists, then any money refunded
    beyond what our refunds account for (made in the provider's dashboard) as one refund.

    `amount_refunded` is the charge's running total, so an event delivered twice or late adds
    nothing that an earlier one recorded."""
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    outcomes = [_provider_refund_apply(payment, order, answer) for answer in charge.refunds]
    known = Refund.objects.counting().filter(payment=payment).aggregate(total=Sum("amount"))
    known_minor = to_minor_units(known["total"] or 0, payment.currency)
    if charge.amount_refunded > known_minor:
        outcomes.append(
            _dashboard_refund_record(payment, order, charge.amount_refunded - known_minor)
        )
    if charge.amount_refunded < charge.amount:
        outcomes.append(f"partial refund on order {order.number}")
    return "; ".join(outcomes) or f"refunds of order {order.number} already recorded"


def refund_retry(*, refund: Refund) -> Refund:
    """Send a failed refund again, with its idempotency key, if it still fits in what is left
    of the order (checked under the order's lock). A refund the provider made and then failed
    (it has the provider's id) is left alone: the same key would only return it, failed."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.state != RefundState.FAILED or locked.provider_refund_id:
            return locked
        _amount_checked(order, locked.amount, excluding=locked)
        _lines_wanted(
            order,
            {line.item_id: line.quantity for line in locked.lines.all()},
            excluding=locked,
        )
        locked.state, locked.failure = RefundState.PENDING, ""
        locked.save(update_fields=["state", "failure", "updated"])
    return refund_dispatch(refund_id=locked.pk)


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
    # Refunds never sent (the provider did not answer), and refunds it declined, sent again
    # under the same idempotency key. One it made and then failed keeps its failure: staff
    # refund again.
    unsent = Refund.objects.filter(
        Q(state=RefundState.PENDING) | Q(state=RefundState.FAILED),
        provider_refund_id__isnull=True,
        updated__lt=older_than,
    ).select_related("order")
    for refund in unsent.order_by("created"):
        what = f"refund {refund.pk} (order {refund.order.number})"
        try:
            if refund.state == RefundState.FAILED:
                refund = refund_retry(refund=refund)
            else:
                refund = refund_dispatch(refund_id=refund.pk)
        except RefundRefused as exc:
            sweep.skipped.append((what, str(exc)))
            continue
        except Exception as exc:
            logger.exception("reconcile_payments: %s failed", what)
            sweep.failed.append((what, _one_line(exc)))
            continue
        if refund.state == RefundState.FAILED:
            sweep.failed.append((what, refund.failure))
        elif refund.provider_refund_id:
            sweep.done.append((what, f"refund sent again: {refund.state}"))
        else:
            sweep.failed.append((what, "the payment service did not take the refund"))
    return sweep
