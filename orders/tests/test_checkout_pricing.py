"""Checkout v2 through its page: delivery methods by country, taxes, discount codes, notes,
saved addresses and guests. Every refusal leaves the cart and the stock as they were."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Address
from accounts.tests.factories import UserFactory
from cart.models import Cart, CartItem
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, only_variant
from orders.access import GUEST_ORDERS
from orders.models import Order, OrderStatus
from orders.tests.factories import ADDRESS, fill_cart
from payments.models import Payment
from pricing.models import ShippingZone, Voucher, VoucherKind, VoucherRedemption
from pricing.tests.factories import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    TaxRateFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    client.force_login(user)
    return user


@pytest.fixture
def uk():
    """A UK zone with two methods, and 20 % VAT; the rest of the world keeps its zone."""
    zone = ShippingZoneFactory(name="UK", countries=["GB"])
    standard = ShippingMethodFactory(zone=zone, name="Standard", price=Decimal("4.00"))
    express = ShippingMethodFactory(zone=zone, name="Express", price=Decimal("12.00"))
    TaxRateFactory(country="GB", name="VAT", rate=Decimal("20"))
    return standard, express


def opened(client, **data):
    """The checkout page for ADDRESS and `data`, as "Update totals" shows it; its hidden fields
    and the method it chose."""
    assert client.get(CHECKOUT).status_code == 200
    response = client.post(CHECKOUT, {**ADDRESS, **data, "action": "update"})
    assert response.status_code == 200
    form = response.context["form"]
    return response, {
        "token": form.initial["token"],
        "signature": form.initial["signature"],
        "shipping_method": form.initial.get("shipping_method") or "",
    }


def place(client, hidden, **data):
    return client.post(CHECKOUT, {**ADDRESS, **hidden, **data, "action": "place"})


def test_the_shopper_picks_a_method_of_their_country_and_pays_tax_on_top(client, shopper, uk):
    standard, express = uk
    fill_cart(shopper, [(ProductFactory(price=Decimal("10.00"), stock=5), 3)])
    response, hidden = opened(client, shipping_method=express.pk)
    assert [choice[0] for choice in response.context["form"].fields["shipping_method"].choices] == [
        standard.pk,
        express.pk,
    ]
    assert "Express" in response.content.decode()

    response = place(client, hidden, shipping_method=express.pk)

    assert response.status_code == 307
    order = Order.objects.get()
    # 30.00 of goods, 12.00 express; 20 % VAT on both: 6.00 + 2.40.
    assert (order.subtotal, order.shipping, order.tax, order.shipping_tax, order.total) == (
        Decimal("30.00"),
        Decimal("12.00"),
        Decimal("8.40"),
        Decimal("2.40"),
        Decimal("50.40"),
    )
    assert (order.shipping_method, order.shipping_method_name) == (express, "Express")
    assert (order.tax_name, order.tax_rate, order.prices_include_tax) == (
        "VAT",
        Decimal("20"),
        False,
    )
    assert order.items.get().tax == Decimal("6.00")


def test_with_prices_including_tax_the_total_is_the_shelf_price(client, shopper, uk, settings):
    settings.PRICES_INCLUDE_TAX = True
    standard, _ = uk
    fill_cart(shopper, [(ProductFactory(price=Decimal("12.00"), stock=5), 1)])
    _, hidden = opened(client, shipping_method=standard.pk)

    place(client, hidden, shipping_method=standard.pk)

    order = Order.objects.get()
    # 12.00 + 4.00 paid; the VAT in it: 2.00 + 0.67.
    assert (order.total, order.tax, order.shipping_tax, order.prices_include_tax) == (
        Decimal("16.00"),
        Decimal("2.67"),
        Decimal("0.67"),
        True,
    )
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Includes VAT (20%)" in page


def test_a_method_of_another_zone_is_refused_and_nothing_is_placed(client, shopper, uk):
    elsewhere = ShippingMethodFactory(name="Courier de Paris")  # a FR/DE zone's
    product = ProductFactory(stock=5)
    fill_cart(shopper, [(product, 2)])
    _, hidden = opened(client)

    response = place(client, hidden, shipping_method=elsewhere.pk)

    assert response.status_code == 409
    assert response.context["form"].errors["shipping_method"] == [
        "Choose one of the delivery options offered for this country."
    ]
    assert not Order.objects.exists()
    assert only_variant(product).stock == 5
    assert CartItem.objects.get().quantity == 2


def test_a_country_no_zone_covers_is_refused_before_payment(client, shopper, uk):
    ShippingZone.objects.filter(rest_of_world=True).delete()
    fill_cart(shopper, [(ProductFactory(stock=5), 1)])
    response, hidden = opened(client, country="FR")
    assert response.context["form"].fields["shipping_method"].choices == []

    # Nothing to choose: the form says so before anything is tried.
    response = place(client, hidden, country="FR", shipping_method="")
    assert response.status_code == 400
    assert "We do not deliver to this country yet." in response.content.decode()
    # A method of another country sent anyway: checkout itself refuses the country.
    response = place(client, {**hidden, "shipping_method": uk[0].pk}, country="FR")
    assert response.status_code == 409
    assert response.context["form"].errors["shipping_method"] == [
        "We do not deliver to this country yet. Choose another address, or contact us."
    ]
    assert not Order.objects.exists()


def test_changing_country_without_updating_shows_the_new_total_first(client, shopper, uk):
    standard, _ = uk
    TaxRateFactory(country="US", name="Sales tax", rate=Decimal("5"))
    fill_cart(shopper, [(ProductFactory(price=Decimal("10.00"), stock=5), 1)])
    _, hidden = opened(client)  # the page for GB, with VAT

    # The shopper changes the country to the US and places the order straight away, with the
    # UK's method still picked: the US has its own.
    response = place(client, hidden, country="US")

    assert response.status_code == 409
    assert not Order.objects.exists()
    form = response.context["form"]
    assert form.errors["shipping_method"]
    assert standard.pk not in [pk for pk, _ in form.fields["shipping_method"].choices]
    # The page now shows the US methods and figures; placing it is agreeing to them.
    again = place(
        client,
        {**hidden, "signature": form["signature"].value()},
        country="US",
        shipping_method=form.fields["shipping_method"].choices[0][0],
    )
    assert again.status_code == 307
    order = Order.objects.get()
    # 5 % of the goods and of the rest of the world's 5.00 delivery.
    assert (order.country.code, order.tax_name, order.tax) == ("US", "Sales tax", Decimal("0.75"))


def test_a_code_entered_at_checkout_is_applied_and_its_use_recorded(client, shopper, uk):
    voucher = VoucherFactory(code="SPRING10", value=Decimal("10"))
    fill_cart(shopper, [(ProductFactory(price=Decimal("25.00"), stock=5), 2)])
    response, hidden = opened(client, voucher_code="spring10")
    assert "SPRING10 is applied." in response.content.decode()

    place(client, hidden, voucher_code="spring10")

    order = Order.objects.get()
    assert (order.voucher_code, order.discount) == ("SPRING10", Decimal("5.00"))
    assert order.items.get().discount == Decimal("5.00")
    # 45.00 of goods after the discount, 4.00 standard shipping, 20 % VAT on both.
    assert order.total == Decimal("45.00") + Decimal("4.00") + Decimal("9.80")
    assert VoucherRedemption.objects.get(voucher=voucher).order == order
    assert Cart.objects.get(user=shopper).voucher_code == ""


@pytest.mark.parametrize(
    ("terms", "queries"),
    [
        ({}, 2),  # read with the checkout's other figures; its use recorded
        ({"usage_limit": 10}, 3),  # and its use counted
        ({"once_per_customer": True}, 3),  # and this customer's earlier use looked for
    ],
    ids=["plain", "use-limit", "once-per-customer"],
)
def test_a_code_costs_a_fixed_few_queries_at_checkout(
    client, shopper, uk, django_assert_num_queries, terms, queries
):
    VoucherFactory(code="SPRING10", **terms)
    fill_cart(shopper, [(ProductFactory(price=Decimal("25.00"), stock=5), 2)])
    _, hidden = opened(client, voucher_code="SPRING10")

    # As a checkout without a code (test_checkout.py), whose cart lock also takes the code off
    # the cart, plus the code's own.
    with django_assert_num_queries(2 + 11 + queries + 2):
        response = place(client, hidden, voucher_code="SPRING10")

    assert response.status_code == 307
    assert Order.objects.get().voucher_code == "SPRING10"
    assert Cart.objects.get(user=shopper).voucher_code == ""


def test_a_refused_checkout_leaves_the_code_on_the_cart(client, shopper, uk):
    VoucherFactory(code="SPRING10")
    product = ProductFactory(price=Decimal("25.00"), stock=5)
    fill_cart(shopper, [(product, 2)])
    Cart.objects.filter(user=shopper).update(voucher_code="SPRING10")
    _, hidden = opened(client, voucher_code="SPRING10")
    ProductVariant.objects.filter(product=product).update(stock=1)  # sold meanwhile

    response = place(client, hidden, voucher_code="SPRING10")

    assert response.status_code == 409
    assert not Order.objects.exists()
    assert Cart.objects.get(user=shopper).voucher_code == "SPRING10"


def test_a_code_that_expired_after_the_page_was_shown_is_removed_and_nothing_placed(
    client, shopper, uk
):
    voucher = VoucherFactory(code="LASTDAY")
    fill_cart(shopper, [(ProductFactory(price=Decimal("20.00"), stock=5), 1)])
    Cart.objects.filter(user=shopper).update(voucher_code="LASTDAY")
    _, hidden = opened(client, voucher_code="LASTDAY")
    Voucher.objects.filter(pk=voucher.pk).update(ends=timezone.now() - timedelta(minutes=1))

    response = place(client, hidden, voucher_code="LASTDAY")

    assert response.status_code == 409
    assert "LASTDAY has expired. It has been removed: check the new total." in (
        response.content.decode()
    )
    assert not Order.objects.exists()
    assert Cart.objects.get(user=shopper).voucher_code == ""
    form = response.context["form"]
    assert form["voucher_code"].value() == ""
    again = place(client, {**hidden, "signature": form["signature"].value()}, voucher_code="")
    assert again.status_code == 307
    assert Order.objects.get().discount == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NOSUCH", "NOSUCH is not a valid discount code."),
        ("USEDUP", "USEDUP has been used up."),
    ],
)
def test_an_unusable_code_says_why_on_update_and_refuses_on_place(
    client, shopper, uk, code, message
):
    VoucherFactory(code="USEDUP", usage_limit=0)
    fill_cart(shopper, [(ProductFactory(stock=5), 1)])

    response, hidden = opened(client, voucher_code=code)
    assert message in response.content.decode()
    response = place(client, hidden, voucher_code=code)

    assert response.status_code == 409
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_a_free_shipping_code_takes_the_shipping_off(client, shopper, uk):
    _, express = uk
    VoucherFactory(code="SHIPFREE", kind=VoucherKind.FREE_SHIPPING, value=0)
    fill_cart(shopper, [(ProductFactory(price=Decimal("10.00"), stock=5), 1)])
    data = {"voucher_code": "SHIPFREE", "shipping_method": express.pk}
    _, hidden = opened(client, **data)

    place(client, hidden, **data)

    order = Order.objects.get()
    assert (order.shipping, order.discount, order.total) == (0, 0, Decimal("12.00"))


def test_an_order_the_code_pays_for_whole_is_paid_without_a_payment(client, shopper, uk):
    zone = ShippingZone.objects.get(name="UK")
    free = ShippingMethodFactory(zone=zone, name="Collect", price=Decimal("0.00"))
    VoucherFactory(code="ALLFREE", value=Decimal("100"))
    fill_cart(shopper, [(ProductFactory(price=Decimal("10.00"), stock=5), 1)])
    data = {"voucher_code": "ALLFREE", "shipping_method": free.pk}
    _, hidden = opened(client, **data)

    response = place(client, hidden, **data)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert (order.total, order.status) == (0, OrderStatus.PAID)
    assert not Payment.objects.exists()


def test_the_shoppers_note_is_kept_and_a_long_one_refused(client, shopper, uk):
    fill_cart(shopper, [(ProductFactory(stock=5), 1)])
    _, hidden = opened(client)

    response = place(client, hidden, note="x" * 10_000)
    # The same page sent again places the order: nothing was used up by the refusal.
    assert response.status_code == 400
    assert "at most 1000 characters" in str(response.context["form"].errors["note"])
    assert not Order.objects.exists()
    assert response.context["form"]["city"].value() == ADDRESS["city"]

    place(client, hidden, note="Leave it with <b>the neighbour</b>")
    order = Order.objects.get()
    assert order.note == "Leave it with <b>the neighbour</b>"
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Leave it with &lt;b&gt;the neighbour&lt;/b&gt;" in page


def test_a_saved_address_is_chosen_instead_of_typing_one(client, shopper, uk):
    Address.objects.create(user=shopper, is_default=True, **{**ADDRESS, "city": "Bath"})
    office = Address.objects.create(
        user=shopper, **{**ADDRESS, "city": "Leeds", "address_line1": "1 Office Park"}
    )
    fill_cart(shopper, [(ProductFactory(stock=5), 1)])
    form = client.get(CHECKOUT).context["form"]
    assert form.initial["city"] == "Bath"  # the default one
    assert form.initial["address"] == str(Address.objects.get(city="Bath").pk)
    _, hidden = opened(client)

    blank = dict.fromkeys(["full_name", "address_line1", "city", "postal_code", "country"], "")
    response = place(client, hidden, address=str(office.pk), **blank)

    assert response.status_code == 307
    order = Order.objects.get()
    assert (order.city, order.address_line1) == ("Leeds", "1 Office Park")


def test_an_address_can_be_saved_from_checkout(client, shopper, uk):
    fill_cart(shopper, [(ProductFactory(stock=5), 1)])
    _, hidden = opened(client)

    place(client, hidden, save_address="on", city="York")

    saved = Address.objects.get(user=shopper)
    assert (saved.city, saved.is_default) == ("York", True)


def test_a_guest_buys_with_an_email_and_sees_only_their_own_order(client, uk):
    product = ProductFactory(stock=5)
    client.post(reverse("cart:add"), {"product": product.pk, "quantity": 2})
    _, hidden = opened(client)

    missing = place(client, hidden)
    assert missing.status_code == 400
    assert missing.context["form"].errors["email"]

    response = place(client, hidden, email="Grace@Example.com")

    assert response.status_code == 307
    order = Order.objects.get()
    assert (order.user, order.email) == (None, "Grace@Example.com")
    assert client.session[GUEST_ORDERS] == [order.number]
    assert client.get(order.get_absolute_url()).status_code == 200
    assert only_variant(product).stock == 3
    # Another visitor, signed out, is asked to log in; signed in, it is not their order.
    other = client.__class__()
    assert other.get(order.get_absolute_url())["Location"].startswith(reverse("accounts:login"))
    other.force_login(UserFactory())
    assert other.get(order.get_absolute_url()).status_code == 404


def test_another_method_than_the_page_showed_shows_its_total_first(client, shopper, uk):
    standard, express = uk
    fill_cart(shopper, [(ProductFactory(price=Decimal("10.00"), stock=5), 1)])
    _, hidden = opened(client, shipping_method=standard.pk)

    response = place(client, {**hidden, "shipping_method": express.pk})

    # Express costs more: the shopper has not seen that total, so it is shown first.
    assert response.status_code == 409
    assert "changed since the page was shown" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "odd",
    [
        {"country": "\x00\x00"},
        {"country": "ZZ"},
        {"voucher_code": "SPRING\x0010"},
        {"voucher_code": "x" * 10_000},
        {"email": "a\x00@example.com"},
        {"shipping_method": "9" * 40},
    ],
    ids=["nul-country", "no-such-country", "nul-code", "long-code", "nul-email", "huge-method"],
)
def test_odd_input_to_update_totals_is_answered_not_a_server_error(client, uk, odd):
    VoucherFactory(code="SPRING10", once_per_customer=True)
    client.post(reverse("cart:add"), {"product": ProductFactory(stock=3).pk, "quantity": 1})

    response = client.post(CHECKOUT, {**ADDRESS, **odd, "action": "update"})

    assert response.status_code == 200
    assert not Order.objects.exists()
    if "voucher_code" in odd:
        assert "is not a valid discount code." in response.content.decode()
