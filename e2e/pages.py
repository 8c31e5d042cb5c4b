"""Every page a shopper can see, with the data that makes each one show what it can show."""

from decimal import Decimal

from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import ProductVariant
from catalog.tests.factories import CategoryFactory, ProductFactory, product_with_options
from orders.models import OrderStatus
from orders.services import order_transition
from orders.tests.factories import fill_cart, place_order
from payments.models import Payment
from shop.money import to_minor_units
from shop.pages.defaults import DEFAULT_PAGES, seed_pages

SHOPPER_EMAIL = "ada@example.com"


def build_store():
    """A small store with a shopper who has a cart, and orders in several states.

    Returns (anonymous pages, shopper pages): lists of (name, path). Checkout is not in them:
    it opens once the shopper has lowered the cart's marked line.
    """
    seed_pages()  # a transactional test's flush takes away the pages the migration made
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
    ]
    return anonymous, shopper_pages
