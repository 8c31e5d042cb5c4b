"""Signal receivers of the payments app."""

from django.dispatch import receiver

from orders.signals import order_cancel_requested
from payments.services import open_sessions_expire


@receiver(order_cancel_requested, dispatch_uid="payments.expire_open_sessions")
def expire_open_sessions(sender, order, **kwargs):
    """Before an unpaid order is cancelled, make its open payment session unpayable."""
    open_sessions_expire(order=order)
