"""Orders for tests, made the way the store makes them: from a cart, through checkout."""

import uuid

from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_add_item
from catalog.models import ProductVariant
from catalog.tests.factories import only_variant
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


def as_variant(item):
    """A variant as is; a simple product (as ProductFactory makes them) as its one variant."""
    return item if isinstance(item, ProductVariant) else only_variant(item)


def fill_cart(user, lines):
    """Put `lines` [(variant or simple product, quantity)] in the user's cart."""
    cart = Cart.objects.get_or_create(user=user)[0]
    for item, quantity in lines:
        cart_add_item(cart=cart, variant=as_variant(item), quantity=quantity)
    return cart


def current_signature(cart):
    return cart_signature(
        (item.variant_id, item.quantity, item.variant.price)
        for item in cart.items.select_related("variant")
    )


def place_order(lines, user=None, **address):
    """Place an order for `lines` [(variant or simple product, quantity)] as `user` (a new
    shopper by default)."""
    user = user or UserFactory()
    cart = fill_cart(user, lines)
    order, _ = order_place(
        user=user,
        shipping={**ADDRESS, **address},
        token=uuid.uuid4(),
        signature=current_signature(cart),
    )
    return order
