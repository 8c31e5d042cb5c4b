"""Domain errors of checkout and order status; views turn them into messages."""

from dataclasses import dataclass

from orders.models import OrderStatus


class OrderError(Exception):
    pass


class EmptyCart(OrderError):
    def __init__(self):
        super().__init__("Your cart is empty.")


class CartChanged(OrderError):
    def __init__(self):
        super().__init__(
            "Your cart, its prices or its total changed since the page was shown. "
            "Check the summary and place the order again."
        )


class CheckoutRefused(OrderError):
    """A delivery or discount code that cannot be used (pricing's ShippingError, VoucherError)."""

    def __init__(self, reason, *, field):
        super().__init__(str(reason))
        self.field = field  # the form field it is about: "shipping_method" or "voucher_code"


@dataclass(frozen=True)
class Shortage:
    name: str
    requested: int
    available: int

    def __str__(self):
        if self.available == 0:
            return f"{self.name}: none left (you asked for {self.requested})"
        return f"{self.name}: only {self.available} left (you asked for {self.requested})"


class InsufficientStock(OrderError):
    def __init__(self, shortages):
        self.shortages = shortages
        super().__init__(
            "Not enough stock for every line, so nothing was ordered and your cart is as it was. "
            + "; ".join(str(s) for s in shortages)
            + "."
        )


class IllegalTransition(OrderError):
    def __init__(self, order, to):
        self.order, self.to = order, to
        super().__init__(
            f"Order {order.number} is {order.get_status_display().lower()} and cannot become "
            f"{OrderStatus(to).label.lower()}."
        )


class PaymentInProgress(OrderError):
    """A payment session of the order is open (or being made): it could still be paid."""

    def __init__(self, order):
        self.order = order
        super().__init__(
            f"A payment for order {order.number} has just been started, so it was not "
            "cancelled. Please try again in a minute."
        )


class RefundPending(OrderError):
    def __init__(self, order):
        self.order = order
        super().__init__(
            f"Order {order.number} has a refund on its way and cannot be shipped. Wait for the "
            "refund to be confirmed."
        )
