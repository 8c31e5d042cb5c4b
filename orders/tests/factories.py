"""Orders for tests, made the way the store makes them: from a cart, through checkout."""

import uuid

from django.conf import settings

from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_add_item
from catalog.models import ProductVariant
from catalog.tests.factories import only_variant
from orders.services import CheckoutRequest, checkout_signature, order_place
from pricing.models import ShippingMethod, ShippingZone
from pricing.services import price

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


def current_signature(cart, *, country=None, region="", method=None, code="", email=""):
    """The signature of the checkout page this cart would show for this address and method."""
    items = list(cart.items.select_related("variant__product").order_by("variant_id"))
    priced = price(
        items,
        country=country or ADDRESS["country"],
        region=region,
        method=method or default_method(country or ADDRESS["country"]),
        code=code,
        email=email,
    )
    return checkout_signature(items, priced.breakdown)


def default_method(country):
    """The cheapest delivery offered for `country` (the "Worldwide" zone's, in a new store)."""
    method = ShippingMethod.objects.for_country(country).first()
    if method is None and not ShippingZone.objects.exists():
        # A test database flushed after a transactional test has lost the zone that migration
        # pricing/0002 made: make it again, as it was.
        zone = ShippingZone.objects.create(name="Worldwide", rest_of_world=True)
        method = ShippingMethod.objects.create(
            zone=zone,
            name="Standard delivery",
            price=settings.SHIPPING_FLAT_RATE,
            free_from=settings.FREE_SHIPPING_THRESHOLD,
        )
    return method


def checkout_request(cart, *, user=None, email=None, code="", method=None, note="", **address):
    """The CheckoutRequest the checkout form would send for this cart, signed as its page."""
    address = {**ADDRESS, **address}
    email = email or (user.email if user else "guest@example.com")
    method = method or default_method(address["country"])
    return CheckoutRequest(
        user=user,
        session_key=None if user else cart.session_key,
        email=email,
        address=address,
        shipping_method_id=method.pk if method else None,
        code=code,
        note=note,
        token=uuid.uuid4(),
        signature=current_signature(
            cart,
            country=address["country"],
            region=address["region"],
            method=method,
            code=code,
            email=email,
        ),
    )


def place_order(lines, user=None, *, code="", method=None, **address):
    """Place an order for `lines` [(variant or simple product, quantity)] as `user` (a new
    shopper by default), delivered by `method` (the cheapest for the country by default)."""
    user = user or UserFactory()
    cart = fill_cart(user, lines)
    order, _ = order_place(checkout_request(cart, user=user, code=code, method=method, **address))
    return order


def checkout_form_data(cart, *, user=None, email=None, code="", method=None, **address):
    """What the checkout page's form posts to place the order for this cart."""
    checkout = checkout_request(cart, user=user, email=email, code=code, method=method, **address)
    data = {
        **checkout.address,
        "token": str(checkout.token),
        "signature": checkout.signature,
        "shipping_method": checkout.shipping_method_id,
        "voucher_code": code,
        "note": "",
    }
    if user is None:
        data["email"] = checkout.email
    return data


def checkout_page_fields(client, **data):
    """The hidden fields and delivery method of the checkout page as "Update totals" shows it
    for ADDRESS (and `data`): what a browser posts back to place the order."""
    from django.urls import reverse

    default_method(data.get("country", ADDRESS["country"]))  # after a flush, too
    response = client.post(reverse("orders:checkout"), {**ADDRESS, **data, "action": "update"})
    form = response.context["form"]
    return {
        **ADDRESS,
        **data,
        "token": form.initial["token"],
        "signature": form.initial["signature"],
        "shipping_method": form.initial.get("shipping_method") or "",
    }
