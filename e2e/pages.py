"""Every page a shopper can see, with the data that makes each one show what it can show."""

from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from accounts.services import address_add
from accounts.tests.factories import UserFactory
from catalog.models import ProductVariant
from catalog.tests.factories import CategoryFactory, ProductFactory, product_with_options
from orders.models import OrderStatus
from orders.services import order_transition
from orders.tests.factories import ADDRESS, default_method, fill_cart, place_order
from payments.models import Payment
from pricing.tests.factories import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    TaxRateFactory,
    VoucherFactory,
)
from shop.money import to_minor_units
from shop.pages.defaults import DEFAULT_PAGES, seed_pages

SHOPPER_EMAIL = "ada@example.com"
GUEST_EMAIL = "grace@example.com"
VOUCHER_CODE = "SPRING10"
# The shopper's address book: the default, and another one.
HOME = {**ADDRESS, "label": "Home"}
WORKSHOP = {
    **ADDRESS,
    "label": "Workshop",
    "address_line1": "1 Piccadilly Gardens",
    "address_line2": "Unit 4",
    "city": "Manchester",
    "postal_code": "M1 1RG",
    "region": "Greater Manchester",
}


def build_pricing():
    """Delivery for the store's own country and the rest of the world (the migration's
    "Worldwide", which a transactional test's flush takes away), two methods and VAT for the
    United Kingdom, and a discount code. Returns the UK's Express method."""
    default_method(settings.STORE_COUNTRY)  # "Worldwide" again, if the flush took it
    uk = ShippingZoneFactory(name="United Kingdom", countries=["GB"])
    ShippingMethodFactory(zone=uk, name="Standard", price=Decimal("4.00"))
    express = ShippingMethodFactory(
        zone=uk, name="Express", price=Decimal("12.00"), delivery_estimate="Next working day"
    )
    TaxRateFactory(country="GB", name="VAT", rate=Decimal("20.000"))
    VoucherFactory(code=VOUCHER_CODE, value=Decimal("10.00"), description="Spring sale")
    return express


def build_store():
    """A small store with a shopper who has a cart, and orders in several states.

    Returns (anonymous pages, shopper pages): lists of (name, path). Checkout is not in them:
    it opens once the shopper has lowered the cart's marked line. Nor are a guest's cart with
    the discount code and a guest's checkout: the audits fill that cart themselves (the
    Brass Lantern, VOUCHER_CODE).
    """
    seed_pages()  # a transactional test's flush takes away the pages the migration made
    build_pricing()
    garden = CategoryFactory(name="Garden", slug="garden", description="For the garden.")
    lantern = ProductFactory(name="Brass Lantern", slug="brass-lantern", category=garden,
                             price=Decimal("30.00"), stock=20)  # fmt: skip
    sold_out = ProductFactory(name="Sold-out Kite", slug="sold-out-kite", category=garden, stock=0)
    short = ProductFactory(name="Last Teapot", slug="last-teapot", category=garden, stock=3)
    ProductFactory.create_batch(30, category=garden)
    shirt = product_with_options(
        "Linen Shirt", {"Size": ["S", "M", "L"], "Colour": ["Navy", "Sand"]}, category=garden
    )
    shirt_m_navy = ProductVariant.objects.get(product=shirt, label="Size: M / Colour: Navy")

    shopper = UserFactory(email=SHOPPER_EMAIL, full_name="Ada Lovelace")
    home = address_add(user=shopper, data=HOME)  # the first: the default
    workshop = address_add(user=shopper, data=WORKSHOP)
    paid = place_order([(lantern, 1), (shirt_m_navy, 1)], user=shopper)
    order_transition(order=paid, to=OrderStatus.PAID, source="test")
    failed = place_order([(lantern, 2)], user=shopper)
    order_transition(order=failed, to=OrderStatus.PAYMENT_FAILED, source="test")
    pending = place_order([(short, 1)], user=shopper)
    payment = Payment.objects.create(
        order=pending, provider="local", attempt=1, session_id="cs_local_audit",
        url=reverse("payments:local_checkout", args=["cs_local_audit"]),
        amount=pending.total, amount_minor=to_minor_units(pending.total, pending.currency),
        currency=pending.currency,
    )  # fmt: skip
    fill_cart(shopper, [(lantern, 2), (short, 2), (shirt_m_navy, 1)])
    # The cart now asks for more than is left: a marked line.
    ProductVariant.objects.filter(product=short).update(stock=1)

    anonymous = [
        ("home", "/"),
        ("products", "/products/"),
        ("products-page-2", "/products/?page=2&sort=price_asc"),
        ("category", "/products/?category=garden"),
        ("search", "/products/?q=lantern"),
        ("search-nothing", "/products/?q=zeppelin"),
        ("products-filtered", "/products/?in_stock=1&max_price=100&option=Size:M"),
        ("product", lantern.get_absolute_url()),
        ("product-with-options", shirt.get_absolute_url()),
        ("product-sold-out", sold_out.get_absolute_url()),
        ("cart-empty", "/cart/"),
        ("login", "/accounts/login/"),
        ("register", "/accounts/register/"),
        ("password-reset", "/accounts/password/reset/"),
        ("password-reset-sent", "/accounts/password/reset/sent/"),
        ("password-reset-bad-link", "/accounts/password/reset/MQ/bad-token/"),
        ("not-found", "/products/no-such-thing/"),
        ("order-lookup", reverse("orders:lookup")),
        *((f"page-{slug}", f"/pages/{slug}/") for slug, _, _ in DEFAULT_PAGES),
    ]
    shopper_pages = [
        ("cart", "/cart/"),
        ("orders", "/orders/"),
        ("order-paid", paid.get_absolute_url()),
        ("order-failed", failed.get_absolute_url()),
        ("order-pending", pending.get_absolute_url()),
        ("pay-stand-in", payment.url),
        ("payment-confirming", f"/payments/success/?session_id={payment.session_id}"),
        ("payment-cancelled", f"/orders/{pending.number}/payment-cancelled/"),
        ("account", "/accounts/"),
        ("password-change", "/accounts/password/change/"),
        ("password-change-done", "/accounts/password/change/done/"),
        ("address-book", reverse("accounts:address_list")),
        ("address-add", reverse("accounts:address_add")),
        ("address-edit", reverse("accounts:address_edit", args=[home.pk])),
        ("address-delete", reverse("accounts:address_delete", args=[workshop.pk])),
    ]
    return anonymous, shopper_pages
