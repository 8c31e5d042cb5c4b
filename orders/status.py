"""An order's statuses and what each one means, in one table.

Moves between statuses (orders.services.order_transition), the stock and discount-code use they
give back, the customer emails they send, what counts as revenue, the labels and colours the
pages and the back office show: all are read from STATUSES. A template never compares status
strings; it asks the order's `state` (Order.state). Adding a status means adding it to
OrderStatus and to STATUSES, and a migration for the choices.

The graph today (terminal statuses have no moves):

    pending_payment -> paid | payment_failed | cancelled
    paid            -> shipped | refunded
    shipped         -> delivered | refunded
    delivered       -> refunded
"""

from dataclasses import dataclass

from django.db import models


class OrderStatus(models.TextChoices):
    """The statuses, with the labels staff see."""

    PENDING_PAYMENT = "pending_payment", "Awaiting payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


S = OrderStatus


@dataclass(frozen=True)
class State:
    """What an order in one status may do, and how it is shown."""

    status: OrderStatus
    # What the shopper reads on their pages, where staff read OrderStatus's label.
    shopper_label: str
    # Where an order may go from here.
    moves: frozenset[OrderStatus] = frozenset()
    # Moving into it gives the order's stock and its discount code's use back. Only terminal
    # statuses may do so: it happens once.
    restocks: bool = False
    # The customer email queued when an order moves into it (orders/emails.py's kinds).
    email: str = ""
    # The shop holds the order's money: revenue, "total spent", the dashboard.
    revenue: bool = False
    # The shopper may pay it (and cancel it).
    awaits_payment: bool = False
    # The shopper may put its items back in their cart (nothing was charged, the stock is back).
    reorderable: bool = False
    # How the status badge is coloured: status--<tone> in static/css/shop.css.
    tone: str = "neutral"
    # The order's field stamped with the time it moves into it.
    stamp: str = ""
    # Moving into it gives the order its invoice number (once; orders/invoices.py).
    invoices: bool = False
    # The order's fields staff give with the move into it (order_transition's `details`).
    details: tuple[str, ...] = ()
    # What the page a shopper comes back to from the payment service says, with {number}.
    return_heading: str = ""
    return_note: str = ""

    @property
    def staff_label(self) -> str:
        return self.status.label

    @property
    def terminal(self) -> bool:
        return not self.moves


STATUSES = {
    state.status: state
    for state in (
        State(
            S.PENDING_PAYMENT,
            "Awaiting payment",
            moves=frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED}),
            email="placed",  # queued by checkout, which creates the order in this status
            awaits_payment=True,
            tone="pending",
            return_heading="Order {number} awaits payment",
            return_note="This payment was not completed. You can pay the order from its page.",
        ),
        State(
            S.PAID,
            "Paid",
            moves=frozenset({S.SHIPPED, S.REFUNDED}),
            email="paid",
            revenue=True,
            tone="good",
            stamp="paid_at",
            invoices=True,
        ),
        State(
            S.SHIPPED,
            "Shipped",
            moves=frozenset({S.DELIVERED, S.REFUNDED}),
            email="shipped",
            revenue=True,
            tone="good",
            stamp="shipped_at",
            details=("carrier", "tracking_number", "tracking_url"),
        ),
        State(
            S.DELIVERED,
            "Delivered",
            # Refunded once all its money is back (payments.services.refund_create).
            moves=frozenset({S.REFUNDED}),
            email="delivered",
            revenue=True,
            tone="good",
            stamp="delivered_at",
        ),
        State(
            S.PAYMENT_FAILED,
            "Payment failed",
            restocks=True,
            email="payment_failed",
            reorderable=True,
            tone="bad",
            return_heading="Your payment did not go through",
            return_note="Nothing was charged for order {number}, and its items are back in stock.",
        ),
        State(
            S.CANCELLED,
            "Cancelled",
            restocks=True,
            email="cancelled",
            reorderable=True,
            tone="bad",
            return_heading="Order {number} is cancelled",
        ),
        State(
            S.REFUNDED,
            "Refunded",
            tone="neutral",
            return_heading="Order {number} is refunded",
            return_note="The payment for it has been refunded to you.",
        ),
    )
}

# Orders whose money the shop has: what revenue and "total spent" count.
REVENUE_STATUSES = tuple(status for status, state in STATUSES.items() if state.revenue)


def state_of(status) -> State:
    return STATUSES[OrderStatus(status)]
