"""Signals the orders app sends. Receivers are listed here so the coupling stays visible.

order_cancel_requested(sender=Order, order=...)
    Sent by orders.services.order_cancel before an unpaid order is cancelled, outside any
    transaction. A receiver may raise orders.exceptions.OrderError to stop the cancellation.
    Received by payments.receivers.expire_open_sessions, which expires the order's open payment
    session first, so a cancelled order can no longer be paid.
"""

from django.dispatch import Signal

order_cancel_requested = Signal()
