"""Signal receivers of the payments app (the signals are described in orders.signals and
payments.providers.local)."""

from django.dispatch import receiver

from orders.exceptions import PaymentInProgress, RefundPending
from orders.models import OrderStatus
from orders.signals import order_cancel_requested, order_status_changing
from payments.models import PaymentStatus, Refund, RefundState
from payments.providers.local import event_sent
from payments.services import WebhookResult, open_sessions_expire, webhook_receive


@receiver(order_cancel_requested, dispatch_uid="payments.expire_open_sessions")
def expire_open_sessions(sender, order, **kwargs):
    """Before an unpaid order is cancelled, make its open payment session unpayable."""
    open_sessions_expire(order=order)


@receiver(order_status_changing, dispatch_uid="payments.refuse_moves_with_money_in_flight")
def refuse_moves_with_money_in_flight(sender, order, to, **kwargs):
    """Under the order's row lock: no move that would lose track of the order's money.

    - Shipping waits while the money that paid the order is being refunded: a refund of any
      size pending, or a whole-payment refund asked by an earlier version of the store.
    - An order giving its stock back (cancelled, payment failed) may not leave a session that
      can still be paid. A session still being made is given up here; payment_start then sees
      it and expires the session instead of handing it out.
    """
    if to == OrderStatus.SHIPPED and (
        order.payments.refunding_order().exists()
        or Refund.objects.filter(order=order, state=RefundState.PENDING).exists()
    ):
        raise RefundPending(order)
    if to in (OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED):
        order.payments.filter(status=PaymentStatus.STARTING).update(status=PaymentStatus.EXPIRED)
        if order.payments.filter(status=PaymentStatus.OPEN).exists():
            raise PaymentInProgress(order)


@receiver(event_sent, dispatch_uid="payments.deliver_stand_in_event")
def deliver_stand_in_event(sender, body, signature, **kwargs) -> WebhookResult:
    """The stand-in's events reach the webhook handler as Stripe's reach the webhook URL."""
    return webhook_receive(body=body, signature=signature)
