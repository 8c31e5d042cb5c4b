"""Delivery, tax and discount codes at checkout: a guest, and a shopper with an address book."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.models import Address
from accounts.services import address_add
from accounts.tests.factories import UserFactory
from catalog.templatetags.money import money
from catalog.tests.factories import CategoryFactory, ProductFactory, only_variant
from e2e.conftest import log_in
from orders.models import Order, OrderStatus
from orders.tests.factories import fill_cart
from pricing.breakdown import Discount, PriceLine, Shipping, Tax, calculate
from pricing.models import VoucherRedemption
from pricing.tests.factories import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    TaxRateFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

GUEST_EMAIL = "grace@example.com"


@pytest.fixture
def store():
    """A lantern, delivery to the United Kingdom by two methods, UK VAT and a spring code.

    No zone covers the rest of the world (a transactional test's flush took the migration's
    "Worldwide" away): only an address in the United Kingdom can be delivered to.
    """
    garden = CategoryFactory(name="Garden", slug="garden")
    lantern = ProductFactory(name="Brass Lantern", category=garden, price=Decimal("30.00"), stock=5)
    uk = ShippingZoneFactory(name="United Kingdom", countries=["GB"])
    standard = ShippingMethodFactory(
        zone=uk, name="Standard", price=Decimal("4.00"), delivery_estimate="2-4 working days"
    )
    express = ShippingMethodFactory(
        zone=uk, name="Express", price=Decimal("12.00"), delivery_estimate="Next working day"
    )
    vat = TaxRateFactory(country="GB", name="VAT", rate=Decimal("20.000"))
    spring = VoucherFactory(code="SPRING10", value=Decimal("10.00"), description="Spring sale")
    return {
        "lantern": lantern,
        "standard": standard,
        "express": express,
        "vat": vat,
        "spring": spring,
    }


def expected_breakdown(store, quantity, method, *, code=True):
    """What `quantity` lanterns delivered to the UK by `method` cost, by the one calculation."""
    lantern = store["lantern"]
    variant = only_variant(lantern)
    return calculate(
        [
            PriceLine(
                key=variant.pk,
                unit_price=variant.price,
                quantity=quantity,
                product_id=lantern.pk,
                category_id=lantern.category_id,
            )
        ],
        currency=settings.STORE_CURRENCY,
        prices_include_tax=settings.PRICES_INCLUDE_TAX,
        shipping=Shipping(name=method.name, price=method.price, free_from=method.free_from),
        tax=Tax(name="VAT", rate=store["vat"].rate, shipping_rate=store["vat"].shipping_percent),
        discount=Discount(code="SPRING10", kind="percentage", value=Decimal("10.00"))
        if code
        else None,
    )


def summary_row(page: Page, name):
    """A row of the checkout page's "Your order" table, by its heading cell."""
    return page.get_by_role("region", name="Your order").get_by_role(
        "row", name=re.compile(rf"^{re.escape(name)}")
    )


def test_a_guest_uses_a_code_chooses_express_to_the_uk_and_pays(page: Page, live_server, store):
    assert not settings.PRICES_INCLUDE_TAX  # the figures below add VAT on top
    expected = expected_breakdown(store, 2, store["express"])
    # The same figures by hand: 2 × 30.00 less 10 %, Express, 20 % VAT on goods and delivery.
    assert (expected.subtotal, expected.discount, expected.shipping) == (
        Decimal("60.00"),
        Decimal("6.00"),
        Decimal("12.00"),
    )
    assert expected.tax == Decimal("13.20")  # 20 % of 54.00 + 20 % of 12.00
    assert expected.total == Decimal("79.20")

    page.goto(f"{live_server.url}{store['lantern'].get_absolute_url()}")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added 2 × Brass Lantern to your cart.")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    page.get_by_label("Discount code").fill("spring10")  # any letter case
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("SPRING10 applied: 10% off.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Discount \(SPRING10\)"))).to_contain_text(
        f"−{money(expected.discount)}"
    )

    page.get_by_role("link", name="Check out").click()
    expect(page.get_by_role("heading", name="Checkout", level=1)).to_be_visible()
    expect(page.get_by_label("Discount code")).to_have_value("SPRING10")
    page.get_by_label("Email").fill(GUEST_EMAIL)
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("10 Downing Street")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("SW1A 2AA")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_role("button", name="Update totals").click()

    # The UK's methods are offered now, the cheaper one chosen.
    delivery = page.get_by_role("group", name=re.compile(r"^Delivery"))
    expect(delivery.get_by_role("radio")).to_have_count(2)
    expect(delivery.get_by_role("radio", name=re.compile(r"^Standard"))).to_be_checked()
    expect(page.get_by_label("Email")).to_have_value(GUEST_EMAIL)
    delivery.get_by_role("radio", name=re.compile(r"^Express")).check()
    page.get_by_role("button", name="Update totals").click()

    expect(page.get_by_text("SPRING10 is applied.")).to_be_visible()
    expect(
        page.get_by_role("group", name=re.compile(r"^Delivery")).get_by_role(
            "radio", name=re.compile(r"^Express")
        )
    ).to_be_checked()
    expect(summary_row(page, "Subtotal")).to_contain_text(money(expected.subtotal))
    expect(summary_row(page, "Discount (SPRING10)")).to_contain_text(f"−{money(expected.discount)}")
    expect(summary_row(page, "Shipping (Express)")).to_contain_text(money(expected.shipping))
    expect(summary_row(page, "VAT (20%)")).to_contain_text(money(expected.tax))
    expect(summary_row(page, "Total")).to_contain_text(money(expected.total))
    place = page.get_by_role("button", name=re.compile(r"^Place order and pay"))
    expect(place).to_have_text(f"Place order and pay {money(expected.total)}")
    place.click()

    expect(page.get_by_role("heading", name="Test payment")).to_be_visible()
    page.get_by_role("button", name=f"Pay {money(expected.total)}").click()
    expect(page.get_by_role("heading", name="Thank you! Your payment is confirmed")).to_be_visible()
    expect(page.get_by_text(f"Total: {money(expected.total)}")).to_be_visible()

    order = Order.objects.get()
    assert order.user is None
    assert order.email == GUEST_EMAIL
    assert order.status == OrderStatus.PAID
    assert order.shipping_method_name == "Express"
    assert order.shipping_method_id == store["express"].pk
    assert order.voucher_code == "SPRING10"
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        expected.subtotal,
        expected.discount,
        expected.shipping,
        expected.tax,
        expected.total,
    )
    assert (order.city, order.postal_code, str(order.country)) == ("London", "SW1A 2AA", "GB")
    assert VoucherRedemption.objects.get(voucher__code="SPRING10").order == order
    assert only_variant(store["lantern"]).stock == 3

    # The guest's browser may see the order it paid for.
    page.get_by_role("link", name=f"View order {order.number}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)


HOME = {
    "label": "Home",
    "full_name": "Ada Lovelace",
    "address_line1": "12 St James's Square",
    "address_line2": "",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "region": "",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}
WORKSHOP = {
    "label": "Workshop",
    "full_name": "Ada King",
    "address_line1": "1 Piccadilly Gardens",
    "address_line2": "Unit 4",
    "city": "Manchester",
    "postal_code": "M1 1RG",
    "region": "Greater Manchester",
    "country": "GB",
    "phone": "+44 161 496 0000",
}


def test_a_shopper_sends_an_order_to_a_saved_address_other_than_the_default(
    page: Page, live_server, store
):
    shopper = UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    home = address_add(user=shopper, data=HOME)
    workshop = address_add(user=shopper, data=WORKSHOP)
    home.refresh_from_db()
    workshop.refresh_from_db()
    assert (home.is_default, workshop.is_default) == (True, False)
    fill_cart(shopper, [(store["lantern"], 1)])
    expected = expected_breakdown(store, 1, store["standard"], code=False)

    log_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server.url}/checkout/")
    deliver_to = page.get_by_role("group", name=re.compile(r"^Deliver to"))
    expect(deliver_to.get_by_role("radio")).to_have_count(3)  # two saved, and a new one
    expect(
        deliver_to.get_by_role("radio", name=re.compile(r"^Ada Lovelace, 12 St James"))
    ).to_be_checked()
    # The typed address starts as the default one.
    expect(page.get_by_label("City")).to_have_value("London")
    expect(summary_row(page, "Total")).to_contain_text(money(expected.total))

    deliver_to.get_by_role("radio", name=re.compile(r"^Ada King, 1 Piccadilly Gardens")).check()
    page.get_by_role("button", name=re.compile(r"^Place order and pay")).click()
    expect(page.get_by_role("heading", name="Test payment")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", name="Thank you! Your payment is confirmed")).to_be_visible()

    order = Order.objects.get()
    assert order.user == shopper
    assert order.email == "ada@example.com"
    assert order.status == OrderStatus.PAID
    shipped_to = {field: str(getattr(order, field)) for field in Address.SHIPPING_FIELDS}
    assert shipped_to == {field: str(getattr(workshop, field)) for field in Address.SHIPPING_FIELDS}
    assert (order.shipping_method_name, order.total) == ("Standard", expected.total)
    # The book is as it was: nothing saved, the default unchanged.
    assert list(shopper.addresses.order_by("pk").values_list("label", "is_default")) == [
        ("Home", True),
        ("Workshop", False),
    ]
