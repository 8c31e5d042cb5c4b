"""What delivery costs: a flat rate, free from a threshold. Shown in the cart, stored on orders."""

from decimal import Decimal

from django.conf import settings


def shipping_cost(subtotal):
    if not subtotal:
        return Decimal("0.00")
    threshold = settings.FREE_SHIPPING_THRESHOLD
    if threshold is not None and subtotal >= threshold:
        return Decimal("0.00")
    return settings.SHIPPING_FLAT_RATE
