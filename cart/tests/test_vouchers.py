"""Discount codes on the cart page: applying, refusing with the reason, removing, the estimate."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart.models import Cart
from catalog.tests.factories import ProductFactory, only_variant
from orders.tests.factories import place_order
from pricing.models import ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherRedemption

pytestmark = pytest.mark.django_db

CART = reverse("cart:detail")
ADD = reverse("cart:add")
APPLY = reverse("cart:voucher_apply")
REMOVE = reverse("cart:voucher_remove")


@pytest.fixture(autouse=True)
def store(settings):
    """A store in the United Kingdom: delivery from 4.00 (two methods), VAT 20%, net prices."""
    settings.STORE_COUNTRY = "GB"
    settings.PRICES_INCLUDE_TAX = False
    zone = ShippingZone.objects.create(name="United Kingdom", countries=["GB"])
    ShippingMethod.objects.create(zone=zone, name="Express", price=Decimal("9.00"))
    ShippingMethod.objects.create(zone=zone, name="Standard", price=Decimal("4.00"))
    TaxRate.objects.create(country="GB", name="VAT", rate=Decimal("20"))


@pytest.fixture
def user(client):
    user = UserFactory()
    client.force_login(user)
    return user


def voucher(code, **fields):
    return Voucher.objects.create(
        code=code, kind=fields.pop("kind", "percentage"), value=fields.pop("value", 10), **fields
    )


def add(client, product, quantity=1):
    response = client.post(ADD, {"product": product.pk, "quantity": quantity})
    assert response.status_code == 302
    client.get(CART)  # reads the "Added" message, so each test sees only its own


def apply(client, code):
    return client.post(APPLY, {"code": code})


def messages_of(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def texts(response):
    return [text for _, text in messages_of(response)]


def stored_code(user):
    return Cart.objects.get(user=user).voucher_code


# --- Applying -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "offer"),
    [
        ({"kind": "percentage", "value": Decimal("10.00")}, "10% off"),
        ({"kind": "percentage", "value": Decimal("12.50")}, "12.5% off"),
        ({"kind": "fixed", "value": Decimal("5.00")}, "$5.00 off"),
        ({"kind": "free_shipping", "value": 0}, "free shipping"),
        (
            {"kind": "fixed", "value": Decimal("5"), "min_subtotal": Decimal("15")},
            "$5.00 off on orders from $15.00",
        ),
    ],
)
def test_a_valid_code_is_stored_on_the_cart_and_says_what_it_does(client, user, fields, offer):
    add(client, ProductFactory(price=Decimal("20.00")))
    voucher("SAVE", **fields)

    response = apply(client, "SAVE")

    assert response.status_code == 302
    assert response["Location"] == CART
    assert stored_code(user) == "SAVE"
    assert texts(client.get(CART)) == [f"SAVE applied: {offer}."]


def test_a_code_for_some_products_says_so(client, user):
    lamp = ProductFactory(price=Decimal("60.00"))
    add(client, lamp)
    code = voucher("LAMPS", min_subtotal=Decimal("50"))
    code.products.set([lamp])

    apply(client, "LAMPS")

    assert texts(client.get(CART)) == [
        "LAMPS applied: 10% off selected items when they come to $50.00 or more."
    ]


@pytest.mark.parametrize("typed", ["save10", "  Save10 ", "SAVE10"])
def test_the_code_is_found_whatever_its_letter_case_and_spaces(client, user, typed):
    add(client, ProductFactory())
    voucher("SAVE10")

    response = apply(client, typed)

    assert response.status_code == 302
    assert stored_code(user) == "SAVE10"


def test_applying_the_applied_code_again_says_so_without_an_error(client, user):
    add(client, ProductFactory())
    voucher("SAVE10")
    apply(client, "SAVE10")
    client.get(CART)  # the first message, read

    response = apply(client, "save10")

    assert response.status_code == 302
    assert messages_of(client.get(CART)) == [("info", "SAVE10 is already applied.")]
    assert stored_code(user) == "SAVE10"


def test_another_valid_code_takes_the_place_of_the_first(client, user):
    add(client, ProductFactory())
    voucher("SAVE10")
    voucher("FIVE", kind="fixed", value=5)
    apply(client, "SAVE10")

    apply(client, "FIVE")

    assert stored_code(user) == "FIVE"


def test_a_guest_can_apply_a_code_to_their_cart(client):
    add(client, ProductFactory(price=Decimal("20.00")))
    voucher("SAVE10")

    response = apply(client, "save10")

    assert response.status_code == 302
    page = client.get(CART)
    assert page.context["breakdown"].discount == Decimal("2.00")
    assert Cart.objects.get(session_key=client.session.session_key).voucher_code == "SAVE10"


# --- Refusing -----------------------------------------------------------------------------------


def _already_used(user):
    # A real use: an order placed with the code by this shopper.
    place_order([(ProductFactory(), 1)], user, code="ONCE")


@pytest.mark.parametrize(
    ("code", "fields", "reason"),
    [
        ("NOPE", None, "NOPE is not a valid discount code."),
        ("OFF", {"is_active": False}, "OFF is not a valid discount code."),
        ("OLD", {"ends": timedelta(days=-1)}, "OLD has expired."),
        ("SOON", {"starts": timedelta(days=1)}, "SOON cannot be used yet."),
        ("GONE", {"usage_limit": 3, "used": 3}, "GONE has been used up."),
        ("LAMPS", {"products": True}, "LAMPS is not valid for the items in your cart."),
        (
            "BIG",
            {"min_subtotal": Decimal("100")},
            "BIG applies from $100.00 of eligible items; yours come to $20.00.",
        ),
        ("ONCE", {"once_per_customer": True}, "You have already used ONCE."),
    ],
)
def test_a_code_that_cannot_be_used_is_refused_with_the_reason(client, user, code, fields, reason):
    if fields is not None:
        fields = dict(fields)
        now = timezone.now()
        for moment in ("starts", "ends"):
            if moment in fields:
                fields[moment] = now + fields[moment]
        only_lamps = fields.pop("products", False)
        made = voucher(code, **fields)
        if only_lamps:
            made.products.set([ProductFactory(name="Lamp")])
        if code == "ONCE":
            _already_used(user)
    add(client, ProductFactory(price=Decimal("20.00")))

    response = apply(client, code.lower())

    assert response.status_code == 400
    assert messages_of(response) == [("error", reason)]
    assert reason.replace("'", "&#x27;") in response.content.decode()
    assert stored_code(user) == ""
    assert "Discount (" not in response.content.decode()


def test_a_refused_code_leaves_the_applied_one_in_place(client, user):
    add(client, ProductFactory())
    voucher("SAVE10")
    apply(client, "SAVE10")

    response = apply(client, "NOPE")

    assert response.status_code == 400
    assert stored_code(user) == "SAVE10"
    assert "Discount (SAVE10)" in response.content.decode()


def test_a_code_for_an_empty_cart_is_refused(client, user):
    voucher("SAVE10")

    response = apply(client, "SAVE10")

    assert response.status_code == 400
    assert texts(response) == ["Add something to your cart before entering a discount code."]
    assert not Cart.objects.filter(user=user, voucher_code="SAVE10").exists()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "Enter a discount code."),
        ({"code": "   "}, "Enter a discount code."),
        ({"code": "A" * 41}, "A discount code has at most 40 characters."),
        ({"code": "SAVE\x0010"}, "Enter a discount code of letters and digits."),
    ],
)
def test_a_bad_code_form_is_answered_with_400(client, user, data, reason):
    add(client, ProductFactory())

    response = client.post(APPLY, data)

    assert response.status_code == 400
    assert texts(response) == [reason]
    assert stored_code(user) == ""


def test_a_10_kb_code_is_refused_cleanly_and_not_echoed(client, user):
    add(client, ProductFactory())
    huge = "X" * 10_240

    response = apply(client, huge)

    assert response.status_code == 400
    assert texts(response) == ["A discount code has at most 40 characters."]
    assert "X" * 41 not in response.content.decode()
    assert stored_code(user) == ""


@pytest.mark.parametrize("url", [APPLY, REMOVE])
def test_the_code_actions_answer_405_to_get(client, user, url):
    add(client, ProductFactory())
    voucher("SAVE10")

    response = client.get(url, {"code": "SAVE10"})

    assert response.status_code == 405
    assert stored_code(user) == ""


def test_applying_codes_is_rate_limited(client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart": "3/m"}
    add(client, ProductFactory())  # one of the three

    statuses = [apply(client, f"GUESS{n}").status_code for n in range(3)]

    assert statuses == [400, 400, 429]


# --- Removing -----------------------------------------------------------------------------------


def test_removing_the_code_clears_it_and_its_discount(client, user):
    add(client, ProductFactory(price=Decimal("20.00")))
    voucher("SAVE10")
    apply(client, "SAVE10")
    assert client.get(CART).context["breakdown"].discount == Decimal("2.00")

    response = client.post(REMOVE)

    assert response.status_code == 302
    assert stored_code(user) == ""
    page = client.get(CART)  # the cart as it was before the code: the page kept for it then
    assert texts(page) == ["Removed the discount code SAVE10."]
    html = page.content.decode()
    assert "Discount (" not in html
    assert "Estimated total</th><td>$28.80</td>" in html  # 20.00 + 4.00 shipping + 20% VAT


def test_removing_without_a_code_or_a_cart_changes_nothing(client):
    response = client.post(REMOVE)

    assert response.status_code == 302
    assert texts(client.get(CART)) == []
    assert not Cart.objects.exists()


# --- The cart page ------------------------------------------------------------------------------


def test_the_cart_page_shows_the_discount_and_the_estimate(client, user):
    lamp = ProductFactory(name="Lamp", price=Decimal("25.00"))
    add(client, lamp, 2)
    voucher("SAVE10")
    apply(client, "SAVE10")

    page = client.get(CART)

    b = page.context["breakdown"]
    # 50.00 - 5.00 discount + 4.00 Standard (the cheapest) + 20% VAT on 45.00 and on 4.00.
    assert (b.subtotal, b.discount, b.shipping, b.tax, b.total) == (
        Decimal("50.00"),
        Decimal("5.00"),
        Decimal("4.00"),
        Decimal("9.80"),
        Decimal("58.80"),
    )
    assert b.line(only_variant(lamp).pk).discount == Decimal("5.00")
    html = page.content.decode()
    assert "Discount (SAVE10)</th>" in html
    assert "−$5.00" in html
    assert 'action="/cart/discount/remove/"' in html
    assert "Estimated shipping (Standard)" in html
    assert "Estimated VAT (20%)</th><td>$9.80</td>" in html
    assert "Estimated total</th><td>$58.80</td>" in html
    assert (
        "Shipping to United Kingdom from $4.00, taxes estimated; the exact figures at checkout."
        in html
    )
    assert "Prices include" not in html


def test_a_free_shipping_code_shows_shipping_free(client, user):
    add(client, ProductFactory(price=Decimal("20.00")))
    voucher("SHIPFREE", kind="free_shipping", value=0)
    apply(client, "SHIPFREE")

    page = client.get(CART)

    assert page.context["breakdown"].shipping == Decimal("0.00")
    assert page.context["breakdown"].total == Decimal("24.00")  # 20.00 + 20% VAT
    html = page.content.decode()
    assert "Free with SHIPFREE" in html
    assert "Shipping to United Kingdom is free" in html


def test_with_prices_including_tax_the_page_says_so_and_shows_the_tax_inside(
    client, user, settings
):
    settings.PRICES_INCLUDE_TAX = True
    add(client, ProductFactory(price=Decimal("24.00")), 2)

    html = client.get(CART).content.decode()

    # 48.00 goods and 4.00 shipping, each with 20% VAT inside: 8.00 + 0.67.
    assert "Prices include VAT." in html
    assert "Includes VAT (20%)</th><td>$8.67</td>" in html
    assert "Estimated VAT" not in html
    assert "Estimated total</th><td>$52.00</td>" in html


def test_without_a_delivery_for_the_store_country_shipping_waits_for_checkout(
    client, user, settings
):
    settings.STORE_COUNTRY = "JP"  # no zone lists it, and there is no rest-of-the-world zone
    ShippingZone.objects.filter(rest_of_world=True).delete()
    add(client, ProductFactory(price=Decimal("20.00")))

    html = client.get(CART).content.decode()

    assert "At checkout" in html
    assert "Shipping to your address is worked out at checkout" in html
    assert "Estimated total</th><td>$20.00</td>" in html


def test_a_stored_code_that_expired_meanwhile_shows_why_and_is_not_applied(client, user):
    add(client, ProductFactory(price=Decimal("20.00")))
    code = voucher("SAVE10")
    apply(client, "SAVE10")
    client.get(CART)
    Voucher.objects.filter(pk=code.pk).update(ends=timezone.now() - timedelta(minutes=1))

    page = client.get(CART)

    assert page.status_code == 200
    assert page.context["breakdown"].discount == Decimal("0.00")
    assert page.context["priced"].voucher is None
    html = page.content.decode()
    assert "SAVE10 has expired. It is not applied to your cart." in html
    assert "Discount (" not in html
    assert 'action="/cart/discount/remove/"' in html  # it can be cleared
    assert stored_code(user) == "SAVE10"


def test_a_code_used_once_is_refused_for_the_same_shopper_only(client, user):
    voucher("ONCE", once_per_customer=True)
    _already_used(user)
    assert VoucherRedemption.objects.filter(customer=user.email).count() == 1
    other = UserFactory()
    client.force_login(other)
    add(client, ProductFactory())

    response = apply(client, "ONCE")

    assert response.status_code == 302
    assert stored_code(other) == "ONCE"
