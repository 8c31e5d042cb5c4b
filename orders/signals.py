"""Signals the orders app sends. Receivers are listed here so the coupling stays visible.

order_cancel_requested(sender=Order, order=...)
    Sent by orders.services.order_cancel before an unpaid order is cancelled, outside any
    transaction. A receiver may raise orders.exceptions.OrderError to stop the cancellation.
    Received by payments.receivers.expire_open_sessions, which expires the order's open payment
    session first, so a cancelled order can no longer be paid.

order_status_changing(sender=Order, order=..., to=...)
    Sent by orders.services.order_transition inside its transaction, with the order's row
    locked and the move allowed by the status graph, just before the status changes. A
    receiver may raise orders.exceptions.OrderError to refuse the move; the transaction is then
    rolled back. Received by payments.receivers.refuse_moves_with_money_in_flight, which refuses
    shipping an order while any of its refunds (payments.Refund, or an automatic refund of its
    payment) is pending, and cancelling (or failing) an order that has a payment session open:
    the order's money must always be accounted for.
"""

from django.dispatch import Signal

order_cancel_requested = Signal()
order_status_changing = Signal()
