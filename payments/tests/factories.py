"""Paid orders with a payment of their own, and refunds made through the store's own path."""

from django.test import TestCase, override_settings

from orders.models import Order, OrderStatus
from orders.services import order_transition
from payments.models import Payment, PaymentStatus, RefundState
from payments.services import refund_create


def pay(order):
    """Mark `order` paid, with the paid Payment a refund draws on (the local stand-in's)."""
    Payment.objects.create(
        order=order,
        attempt=1,
        provider="local",
        session_id=f"cs_test_{order.number}",
        status=PaymentStatus.PAID,
        amount=order.total,
        currency=order.currency,
        amount_minor=int(order.total * 100),
        payment_intent=f"pi_test_{order.number}",
    )
    order_transition(order=order, to=OrderStatus.PAID, source="test")
    return Order.objects.get(pk=order.pk)


def refund(order, *, amount=None, lines=None, restock=False, reason="test"):
    """A refund made as the back office makes it, answered at once by the local stand-in."""
    with (
        override_settings(PAYMENT_BACKEND="local", PAYMENT_PROVIDER=""),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        made = refund_create(
            order=order, amount=amount, lines=lines, restock=restock, reason=reason
        )
    made.refresh_from_db()
    assert made.state == RefundState.SUCCEEDED, made.failure
    return made
