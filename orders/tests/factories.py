"""Orders for tests, made the way the store makes them: from a cart, through checkout."""

import uuid

from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_add_item
from orders.services import cart_signature, order_place

ADDRESS = {
    "full_name": "Ada Lovelace",
    "address_line1": "12 St James's Square",
    "address_line2": "",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "region": "",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


def fill_cart(user, lines):
    cart = Cart.objects.get_or_create(user=user)[0]
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return cart


def current_signature(cart):
    return cart_signature(
        (item.product_id, item.quantity, item.product.price)
        for item in cart.items.select_related("product")
    )


def place_order(lines, user=None, **address):
    """Place an order for `lines` [(product, quantity)] as `user` (a new shopper by default)."""
    user = user or UserFactory()
    cart = fill_cart(user, lines)
    order, _ = order_place(
        user=user,
        shipping={**ADDRESS, **address},
        token=uuid.uuid4(),
        signature=current_signature(cart),
    )
    return order
