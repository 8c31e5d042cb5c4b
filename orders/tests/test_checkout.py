"""Checkout through its page: the order, the stock, the cart, and every way it can go wrong."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart.models import CartItem
from catalog.models import OptionValue, Product, ProductVariant
from catalog.services import product_labels_refresh
from catalog.tests.factories import (
    ESCAPED_MARKUP_NAME,
    MARKUP_NAME,
    ProductFactory,
    only_variant,
    product_with_options,
)
from orders.models import Order, OrderStatus
from orders.tests.factories import ADDRESS, fill_cart, place_order
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    client.force_login(user)
    return user


def open_checkout(client):
    """The checkout page's hidden fields and the delivery it has chosen, as a browser reads
    them from the page (which may be the one kept for this cart)."""
    response = client.get(CHECKOUT)
    assert response.status_code == 200
    return page_choices(response.content.decode())


def page_choices(html):
    def value(pattern):
        return re.search(pattern, html).group(1)

    return {
        "token": value(r'name="token" value="([^"]+)"'),
        "signature": value(r'name="signature" value="([^"]+)"'),
        "shipping_method": value(r'name="shipping_method" value="(\d+)"[^>]* checked>'),
    }


def submit(client, hidden, **overrides):
    return client.post(CHECKOUT, {**ADDRESS, **hidden, **overrides})


def variant_of(product, label):
    return ProductVariant.objects.select_related("product").get(product=product, label=label)


def shirt(**kwargs):
    """A shirt in sizes S and M, red and blue: four variants of 20.00 with 5 each."""
    return product_with_options(
        name="Shirt", options={"Size": ["S", "M"], "Colour": ["Red", "Blue"]}, **kwargs
    )


def test_checkout_turns_the_cart_into_an_order_awaiting_payment(client, shopper):
    lamp = ProductFactory(name="Lamp", sku="LAMP-1", price=Decimal("12.50"), stock=5)
    mug = ProductFactory(name="Mug", price=Decimal("4.00"), stock=5)
    fill_cart(shopper, [(lamp, 2), (mug, 3)])

    response = submit(client, open_checkout(client))

    order = Order.objects.get()
    # 307: the browser posts on to start payment, which creates a payment session.
    assert response.status_code == 307
    assert response["Location"] == reverse("payments:start", args=[order.number])
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.user == shopper
    assert order.email == "ada@example.com"
    assert order.currency == "USD"
    assert order.subtotal == Decimal("37.00")
    assert order.shipping == Decimal("5.00")
    assert order.total == Decimal("42.00")
    assert order.lines_total() == order.subtotal
    assert [(i.product_name, i.product_sku, i.unit_price, i.quantity, i.line_total)
            for i in order.items.order_by("variant_id")] == [
        ("Lamp", "LAMP-1", Decimal("12.50"), 2, Decimal("25.00")),
        ("Mug", only_variant(mug).sku, Decimal("4.00"), 3, Decimal("12.00")),
    ]  # fmt: skip
    assert [(i.variant, i.variant_label) for i in order.items.order_by("variant_id")] == [
        (only_variant(lamp), ""),
        (only_variant(mug), ""),
    ]
    assert order.country.code == "GB"
    assert order.city == "London"
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", order.number)
    assert only_variant(lamp).stock == 3
    assert only_variant(mug).stock == 2
    assert not CartItem.objects.exists()
    assert [(e.from_status, e.to_status, e.source) for e in order.events.all()] == [
        ("", "pending_payment", "checkout")
    ]


def test_variants_are_ordered_with_their_own_sku_price_label_and_stock(client, shopper):
    product = shirt(price=Decimal("20.00"), stock=5)
    blue_m = variant_of(product, "Size: M / Colour: Blue")
    ProductVariant.objects.filter(pk=blue_m.pk).update(price=Decimal("22.00"), sku="SHIRT-M-BLU")
    red_s = variant_of(product, "Size: S / Colour: Red")
    fill_cart(shopper, [(variant_of(product, "Size: M / Colour: Blue"), 2), (red_s, 1)])

    response = submit(client, open_checkout(client))

    assert response.status_code == 307
    order = Order.objects.get()
    assert [
        (i.variant_id, i.product_name, i.variant_label, i.product_sku, i.unit_price, i.quantity)
        for i in order.items.order_by("unit_price")
    ] == [
        (red_s.pk, "Shirt", "Size: S / Colour: Red", red_s.sku, Decimal("20.00"), 1),
        (blue_m.pk, "Shirt", "Size: M / Colour: Blue", "SHIRT-M-BLU", Decimal("22.00"), 2),
    ]
    assert order.items.get(variant=blue_m).name == "Shirt (Size: M / Colour: Blue)"
    assert order.subtotal == Decimal("64.00")
    # The stock of each variant sold, and of no other variant of the product.
    assert dict(ProductVariant.objects.filter(product=product).values_list("label", "stock")) == {
        "Size: S / Colour: Red": 4,
        "Size: S / Colour: Blue": 5,
        "Size: M / Colour: Red": 5,
        "Size: M / Colour: Blue": 3,
    }
    deliver_queued()
    body = mail.outbox[0].body
    assert "2 × Shirt (Size: M / Colour: Blue) (SHIRT-M-BLU)   $44.00" in body
    assert f"1 × Shirt (Size: S / Colour: Red) ({red_s.sku})   $20.00" in body


def test_the_order_page_says_it_awaits_payment_and_the_email_is_sent(client, shopper):
    fill_cart(shopper, [(ProductFactory(name="Lamp"), 1)])
    hidden = open_checkout(client)
    assert submit(client, hidden).status_code == 307
    order = Order.objects.get()
    assert mail.outbox == []  # queued in the outbox, sent by its worker
    deliver_queued()

    page = client.get(order.get_absolute_url())

    html = page.content.decode()
    assert "awaits payment" in html
    assert "Pay now" in html
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    assert order.number in mail.outbox[0].subject
    assert "1 × Lamp" in mail.outbox[0].body


def test_shipping_is_free_from_the_threshold(client, shopper, settings):
    settings.FREE_SHIPPING_THRESHOLD = Decimal("50.00")
    fill_cart(shopper, [(ProductFactory(price=Decimal("25.00")), 2)])

    submit(client, open_checkout(client))

    order = Order.objects.get()
    assert order.shipping == Decimal("0.00")
    assert order.total == Decimal("50.00")


def test_the_checkout_page_shows_shipping_and_total(client, shopper):
    fill_cart(shopper, [(ProductFactory(price=Decimal("10.00")), 1)])
    html = client.get(CHECKOUT).content.decode()
    assert "$5.00" in html
    assert "$15.00" in html


def test_the_form_is_prefilled_from_the_last_order(client, shopper):
    place_order([(ProductFactory(), 1)], user=shopper, city="Manchester", postal_code="M1 1AE")
    fill_cart(shopper, [(ProductFactory(), 1)])

    form = client.get(CHECKOUT).context["form"]

    assert form.initial["city"] == "Manchester"
    assert form.initial["postal_code"] == "M1 1AE"
    assert form.initial["full_name"] == "Ada Lovelace"


def test_a_first_order_is_prefilled_with_the_shoppers_name(client, shopper):
    fill_cart(shopper, [(ProductFactory(), 1)])
    assert client.get(CHECKOUT).context["form"].initial["full_name"] == "Ada Lovelace"


def test_the_order_keeps_its_snapshot_after_the_product_changes(client, shopper):
    lamp = ProductFactory(name="Lamp", price=Decimal("10.00"), sku="LAMP-1")
    order = place_order([(lamp, 2)], user=shopper)

    lamp.name = "Lamp v2"
    lamp.save()
    variant = only_variant(lamp)
    variant.price = Decimal("99.00")
    variant.sku = "NEW"
    variant.save()

    item = Order.objects.get(pk=order.pk).items.get()
    assert (item.product_name, item.product_sku, item.unit_price, item.line_total) == (
        "Lamp",
        "LAMP-1",
        Decimal("10.00"),
        Decimal("20.00"),
    )
    html = client.get(order.get_absolute_url()).content.decode()
    assert "Lamp v2" not in html
    assert "NEW" not in html


def test_the_order_keeps_its_variant_label_after_the_options_are_renamed(client, shopper):
    product = shirt()
    order = place_order([(variant_of(product, "Size: M / Colour: Blue"), 1)], user=shopper)

    OptionValue.objects.filter(option_type__product=product, value="Blue").update(value="Navy")
    product_labels_refresh(product=product)

    assert ProductVariant.objects.filter(label="Size: M / Colour: Navy").exists()
    item = Order.objects.get(pk=order.pk).items.get()
    assert (item.variant_label, item.name) == (
        "Size: M / Colour: Blue",
        "Shirt (Size: M / Colour: Blue)",
    )
    html = client.get(order.get_absolute_url()).content.decode()
    assert "Size: M / Colour: Blue" in html
    assert "Navy" not in html


@pytest.mark.parametrize("lines", [1, 2, 8])
def test_placing_an_order_costs_the_same_queries_however_many_lines(
    client, shopper, lines, django_assert_num_queries
):
    # Half simple products, half variants of one product with options (one line: a variant).
    simple = [ProductFactory(stock=5) for _ in range(lines // 2)]
    sizes = [f"Size {n}" for n in range(lines - len(simple))]
    variants = list(product_with_options(options={"Size": sizes}, stock=5).variants.all())
    fill_cart(shopper, [(item, 1) for item in simple + variants])
    hidden = open_checkout(client)

    # The user and their address book; then in one transaction: the cart locked, the lines
    # with their variants and products (the variants locked), the country's shipping methods,
    # its tax rate, the order, its lines, the stock, the cart's lines, the event, the email
    # (its send task is queued after commit). (+ 2: the test's own transaction turns the
    # atomic block into a savepoint.)
    with django_assert_num_queries(2 + 11 + 2):
        response = submit(client, hidden)

    assert response.status_code == 307
    assert Order.objects.get().items.count() == lines
    assert ProductVariant.objects.filter(stock=4).count() == lines


def test_the_checkout_page_and_a_refusal_cost_a_fixed_number_of_queries(
    client, shopper, django_assert_num_queries, monkeypatch
):
    products = [ProductFactory(stock=5) for _ in range(4)]
    fill_cart(shopper, [(product, 1) for product in products])
    from catalog.cache import forget_local
    from catalog.models import CatalogVersion

    # Made by the migration, gone if a transactional test emptied the tables earlier.
    CatalogVersion.objects.get_or_create(pk=CatalogVersion.ROW)
    # The user with the cart's lines, their variants and products (and the cart's code), the
    # address book, the last order's address (the header's count comes from the lines); the
    # country's shipping methods and tax rate; the footer's content pages, read once per
    # catalogue version in each process (so the version too; the first page since).
    forget_local()
    monkeypatch.setattr("catalog.cache.VERSION_MEMO", 3600)  # however slow the machine
    with django_assert_num_queries(3 + 2 + 2):
        hidden = open_checkout(client)
    # Shown again, the page kept for this cart and address book: only what it is kept under.
    with django_assert_num_queries(3):
        assert client.get(CHECKOUT).status_code == 200
    ProductVariant.objects.filter(product=products[0]).update(stock=0)

    # The user and the address book; the attempt: cart locked, lines locked (+ 3: in the
    # test's transaction it is a savepoint, rolled back); then the cart's lines, the shipping
    # methods and tax rate for the page; the footer as it was read before.
    with django_assert_num_queries(2 + 2 + 3 + 1 + 2):
        response = submit(client, hidden)
    assert response.status_code == 409
    assert "Cart <span" in response.content.decode()
    assert "(4<span" in response.content.decode()


def test_an_order_number_drawn_twice_is_drawn_again(client, shopper, monkeypatch):
    from orders import services

    taken = place_order([(ProductFactory(stock=5), 1)]).number
    numbers = iter([taken, "NEW23-NUMBR"])
    monkeypatch.setattr(services, "order_number", lambda: next(numbers))
    lamp = ProductFactory(stock=5)
    fill_cart(shopper, [(lamp, 1)])

    response = submit(client, open_checkout(client))

    order = Order.objects.get(user=shopper)
    assert order.number == "NEW23-NUMBR"
    assert response["Location"] == reverse("payments:start", args=[order.number])
    assert order.items.get().variant == only_variant(lamp)
    assert only_variant(lamp).stock == 4


def test_a_repeated_submission_leads_to_the_order_already_made(client, shopper):
    lamp = ProductFactory(stock=10)
    fill_cart(shopper, [(lamp, 2)])
    hidden = open_checkout(client)

    first = submit(client, hidden)
    second = submit(client, hidden)

    assert Order.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == Order.objects.get().get_absolute_url()
    assert first["Location"] == reverse("payments:start", args=[Order.objects.get().number])
    assert only_variant(lamp).stock == 8
    assert "was already placed" in client.get(second["Location"]).content.decode()


def test_the_form_sent_again_with_the_same_lines_back_leads_to_its_order(client, shopper):
    lamp = ProductFactory(stock=10)
    fill_cart(shopper, [(lamp, 2)])
    hidden = open_checkout(client)
    submit(client, hidden)
    fill_cart(shopper, [(lamp, 2)])  # the same lines again, then the old page's form

    response = submit(client, hidden)

    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert only_variant(lamp).stock == 8
    assert CartItem.objects.filter(cart__user=shopper).count() == 1


def test_every_short_line_is_reported_and_the_cart_is_kept(client, shopper):
    lamp = ProductFactory(name="Lamp", stock=5)
    mug = ProductFactory(name="Mug", stock=5)
    fine = ProductFactory(name="Fine", stock=5)
    fill_cart(shopper, [(lamp, 4), (mug, 3), (fine, 1)])
    hidden = open_checkout(client)
    ProductVariant.objects.filter(product=lamp).update(stock=1)
    ProductVariant.objects.filter(product=mug).update(stock=0)

    response = submit(client, hidden)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Lamp: only 1 left (you asked for 4)" in html
    assert "Mug: none left (you asked for 3)" in html
    assert "Fine" not in html.split("Not enough stock")[1].split("</li>")[0]
    assert not Order.objects.exists()
    assert sorted(CartItem.objects.values_list("quantity", flat=True)) == [1, 3, 4]
    assert only_variant(fine).stock == 5
    assert response.context["form"]["city"].value() == "London"  # nothing typed is lost


def test_a_short_variant_is_named_and_its_siblings_are_not_touched(client, shopper):
    product = shirt(stock=5)
    blue_m = variant_of(product, "Size: M / Colour: Blue")
    red_m = variant_of(product, "Size: M / Colour: Red")
    fill_cart(shopper, [(blue_m, 2), (red_m, 3)])
    hidden = open_checkout(client)
    ProductVariant.objects.filter(pk=blue_m.pk).update(stock=1)

    response = submit(client, hidden)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Shirt (Size: M / Colour: Blue): only 1 left (you asked for 2)" in html
    assert "Colour: Red)" not in html.split("Not enough stock")[1].split("</li>")[0]
    assert not Order.objects.exists()
    assert dict(ProductVariant.objects.filter(product=product).values_list("label", "stock")) == {
        "Size: S / Colour: Red": 5,
        "Size: S / Colour: Blue": 5,
        "Size: M / Colour: Red": 5,
        "Size: M / Colour: Blue": 1,
    }


@pytest.mark.parametrize("model", [Product, ProductVariant], ids=["product", "variant"])
def test_a_product_deactivated_after_opening_checkout_is_reported(client, shopper, model):
    lamp = ProductFactory(name="Lamp")
    fill_cart(shopper, [(lamp, 1)])
    hidden = open_checkout(client)
    if model is Product:
        Product.objects.filter(pk=lamp.pk).update(is_active=False)
    else:
        ProductVariant.objects.filter(product=lamp).update(is_active=False)

    response = submit(client, hidden)

    assert response.status_code == 409
    assert "Lamp: none left" in response.content.decode()
    assert not Order.objects.exists()


def test_a_cart_changed_between_page_and_submit_asks_to_confirm(client, shopper):
    lamp = ProductFactory(name="Lamp", stock=10)
    fill_cart(shopper, [(lamp, 1)])
    hidden = open_checkout(client)
    fill_cart(shopper, [(ProductFactory(name="Mug"), 1)])  # another tab

    response = submit(client, hidden)

    assert response.status_code == 409
    assert "changed since the page was shown" in response.content.decode()
    assert not Order.objects.exists()
    # The page now carries the new cart's fingerprint: submitting it again places the order.
    retry = response.context["form"]["signature"].value()
    again = submit(client, {**hidden, "signature": retry})
    assert again.status_code == 307
    assert Order.objects.get().items.count() == 2


def test_a_price_change_between_page_and_submit_asks_to_confirm(client, shopper):
    lamp = ProductFactory(price=Decimal("10.00"))
    fill_cart(shopper, [(lamp, 1)])
    hidden = open_checkout(client)
    ProductVariant.objects.filter(product=lamp).update(price=Decimal("12.00"))

    assert submit(client, hidden).status_code == 409
    assert not Order.objects.exists()


def test_a_cart_emptied_between_page_and_submit_goes_back_to_the_cart(client, shopper):
    fill_cart(shopper, [(ProductFactory(), 1)])
    hidden = open_checkout(client)
    CartItem.objects.all().delete()

    response = submit(client, hidden)

    assert response["Location"] == reverse("cart:detail")
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": ""}, "full_name"),
        ({"address_line1": ""}, "address_line1"),
        ({"city": ""}, "city"),
        ({"postal_code": ""}, "postal_code"),
        ({"country": ""}, "country"),
        ({"country": "XX"}, "country"),
        ({"country": "Narnia"}, "country"),
        ({"address_line1": "x" * 10_240}, "address_line1"),
        ({"city": "y" * 10_240}, "city"),
        ({"phone": "call me maybe"}, "phone"),
    ],
)
def test_bad_input_gives_the_form_back_and_loses_nothing(client, shopper, overrides, field):
    lamp = ProductFactory(stock=5)
    fill_cart(shopper, [(lamp, 2)])

    response = submit(client, open_checkout(client), **overrides)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Order.objects.exists()
    assert CartItem.objects.get().quantity == 2
    assert only_variant(lamp).stock == 5
    if field != "full_name":
        assert response.context["form"]["full_name"].value() == "Ada Lovelace"


@pytest.mark.parametrize(
    "damage",
    [
        {"token": "not-a-uuid"},
        {"token": ""},
        {"signature": "x" * 65},
        {"signature": ""},
        {"token": "not-a-uuid", "postal_code": ""},
    ],
    ids=["bad-token", "no-token", "bad-signature", "no-signature", "with-an-address-error"],
)
def test_a_damaged_checkout_page_is_loaded_again_with_a_message_and_what_was_typed(
    client, shopper, damage
):
    fill_cart(shopper, [(ProductFactory(stock=5), 2)])
    opened = open_checkout(client)

    response = submit(client, {**opened, **damage}, city="Manchester")

    assert response.status_code == 400
    assert "This checkout page was out of date; we have loaded it again" in (
        response.content.decode()
    )
    form = response.context["form"]
    assert form["city"].value() == "Manchester"
    assert form["signature"].value() == opened["signature"]
    assert not form.has_error("token")
    assert not form.has_error("signature")
    assert form.has_error("postal_code") == ("postal_code" in damage)
    assert not Order.objects.exists()
    # The page as sent back places the order.
    fresh = {**opened, "token": form["token"].value(), "signature": form["signature"].value()}
    assert fresh["token"] != str(opened["token"])
    assert submit(client, fresh, city="Manchester").status_code == 307
    assert Order.objects.get().city == "Manchester"


def test_checkout_is_open_to_guests_with_a_cart(client):
    response = client.get(CHECKOUT)
    assert response["Location"] == reverse("cart:detail")  # no cart yet

    client.post(reverse("cart:add"), {"product": ProductFactory(stock=3).pk, "quantity": 1})
    response = client.get(CHECKOUT)

    assert response.status_code == 200
    assert "email" in response.context["form"].fields
    assert "save_address" not in response.context["form"].fields


def test_an_empty_cart_cannot_be_checked_out(client, shopper):
    response = client.get(CHECKOUT)
    assert response["Location"] == reverse("cart:detail")


def test_a_cart_with_problems_is_sent_back_to_the_cart(client, shopper):
    lamp = ProductFactory(stock=5)
    fill_cart(shopper, [(lamp, 3)])
    ProductVariant.objects.filter(product=lamp).update(stock=1)
    assert client.get(CHECKOUT)["Location"] == reverse("cart:detail")


def test_the_cart_page_offers_checkout_only_without_problems(client, shopper):
    lamp = ProductFactory(stock=5)
    fill_cart(shopper, [(lamp, 3)])
    assert CHECKOUT in client.get(reverse("cart:detail")).content.decode()
    ProductVariant.objects.filter(product=lamp).update(stock=1)
    assert CHECKOUT not in client.get(reverse("cart:detail")).content.decode()


def test_the_checkout_page_names_each_variant_with_its_own_price(client, shopper):
    product = shirt(price=Decimal("20.00"))
    blue_m = variant_of(product, "Size: M / Colour: Blue")
    ProductVariant.objects.filter(pk=blue_m.pk).update(price=Decimal("23.50"))
    fill_cart(shopper, [(variant_of(product, "Size: M / Colour: Blue"), 2)])

    html = client.get(CHECKOUT).content.decode()

    assert '<span class="variant-label">Size: M / Colour: Blue</span>' in html
    assert "$23.50 each" in html
    assert "$47.00" in html


def test_a_variant_label_with_markup_is_shown_escaped(client, shopper):
    product = product_with_options(options={"Size": [MARKUP_NAME]})
    fill_cart(shopper, [(product.variants.get(), 1)])

    checkout_page = client.get(CHECKOUT).content.decode()
    order = place_order([(product.variants.get(), 1)], user=shopper)
    order_page = client.get(order.get_absolute_url()).content.decode()

    for html in (checkout_page, order_page):
        assert f"Size: {ESCAPED_MARKUP_NAME}" in html
        assert MARKUP_NAME not in html


def test_a_product_name_with_markup_is_shown_escaped_on_the_checkout_page(client, shopper):
    fill_cart(shopper, [(ProductFactory(name=MARKUP_NAME), 1)])

    html = client.get(CHECKOUT).content.decode()

    assert ESCAPED_MARKUP_NAME in html
    assert MARKUP_NAME not in html
