"""The cart through its pages: guests and shoppers, bad input, stock caps, privacy."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory
from cart.models import Cart, CartItem
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import ProductVariant
from catalog.tests.factories import (
    ESCAPED_MARKUP_NAME,
    MARKUP_NAME,
    ProductFactory,
    only_variant,
)

pytestmark = pytest.mark.django_db

CART = reverse("cart:detail")
ADD = reverse("cart:add")


# A line of the cart page: the product's name (a link while it is sold) and its quantity box.
LINE = re.compile(
    r'<td data-label="Product">\s*(?:<a href="[^"]*">)?([^<]*).*?name="quantity" value="(\d+)"',
    re.S,
)


def lines(client):
    """The lines the cart page shows, as {product name: quantity}."""
    html = client.get(CART).content.decode()
    return {unescape(name): int(quantity) for name, quantity in LINE.findall(html)}


def add(client, product, quantity=1, **extra):
    return client.post(ADD, {"product": product.pk, "quantity": quantity, **extra})


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def shopper_client(client):
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize("who", ["guest", "shopper"])
def test_add_update_remove_and_view(client, who):
    if who == "shopper":
        client.force_login(UserFactory())
    lamp = ProductFactory(name="Lamp", price=Decimal("12.50"), stock=10)
    mug = ProductFactory(name="Mug", price=Decimal("4.00"), stock=10)

    response = add(client, lamp, 2, next=lamp.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == lamp.get_absolute_url()
    add(client, mug)
    add(client, lamp, 1)
    assert lines(client) == {"Lamp": 3, "Mug": 1}

    html = client.get(CART).content.decode()  # as shown just before: the page kept for it
    assert "$37.50" in html  # the lamp line
    assert "Subtotal (4 items)</th><td>$41.50</td>" in html
    assert 'class="cart-count">(4<' in html

    client.post(reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 5})
    assert lines(client) == {"Lamp": 5, "Mug": 1}

    client.post(reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 0})
    assert lines(client) == {"Mug": 1}

    client.post(reverse("cart:remove", args=[only_variant(mug).pk]))
    assert lines(client) == {}
    assert "Your cart is empty" in client.get(CART).content.decode()


def test_the_cart_shows_todays_price(shopper_client):
    lamp = ProductFactory(price=Decimal("10.00"))
    add(shopper_client, lamp, 2)
    ProductVariant.objects.filter(product=lamp).update(price=Decimal("11.00"))
    assert shopper_client.get(CART).context["contents"].subtotal == Decimal("22.00")


def test_adding_success_message(shopper_client):
    lamp = ProductFactory(name="Lamp")
    response = add(shopper_client, lamp, 2, next=CART)
    assert "Added 2 × Lamp to your cart." in messages_of(shopper_client.get(response["Location"]))


def test_quantity_above_stock_is_capped_with_a_message(shopper_client):
    lamp = ProductFactory(name="Lamp", stock=3)

    add(shopper_client, lamp, 5)
    page = shopper_client.get(CART)

    assert lines(shopper_client) == {"Lamp": 3}
    assert "Only 3 of Lamp can be ordered; your cart has 3." in messages_of(page)


def test_adding_more_to_a_full_line_stays_at_stock(shopper_client):
    lamp = ProductFactory(name="Lamp", stock=3)
    add(shopper_client, lamp, 3)
    add(shopper_client, lamp, 1)
    assert lines(shopper_client) == {"Lamp": 3}


def test_a_line_is_capped_at_the_per_line_maximum(shopper_client, settings):
    settings.CART_MAX_LINE_QUANTITY = 5
    lamp = ProductFactory(name="Lamp", stock=100)
    add(shopper_client, lamp, 4)
    add(shopper_client, lamp, 4)
    shopper_client.post(reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 50})
    assert lines(shopper_client) == {"Lamp": 5}


def test_out_of_stock_products_are_refused_with_a_message(shopper_client):
    lamp = ProductFactory(name="Lamp", stock=0)

    response = add(shopper_client, lamp)

    assert response.status_code == 302
    page = shopper_client.get(response["Location"])
    assert "Lamp is" in " ".join(messages_of(page))
    assert page.context["contents"].lines == []


def test_an_inactive_product_is_not_found_and_never_named(shopper_client):
    secret = ProductFactory(name="Unreleased prototype", is_active=False)

    response = add(shopper_client, secret)

    assert response.status_code == 404
    assert "Unreleased prototype" not in response.content.decode()
    page = shopper_client.get(CART)
    assert "Unreleased prototype" not in page.content.decode()
    assert page.context["contents"].lines == []


@pytest.mark.parametrize("quantity", ["-1", "0", "abc", "1e9", "", "2.5", "99999999999999999999"])
def test_bad_quantities_on_add_are_answered_with_a_message(shopper_client, quantity):
    lamp = ProductFactory()

    response = shopper_client.post(ADD, {"product": lamp.pk, "quantity": quantity})

    assert response.status_code == 400
    assert "Enter a whole number from 1 to 9999" in response.content.decode()
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("quantity", ["-1", "abc", "1e9", ""])
def test_bad_quantities_on_update_leave_the_line_as_it_was(shopper_client, quantity):
    lamp = ProductFactory(name="Lamp")
    add(shopper_client, lamp, 2)

    response = shopper_client.post(
        reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": quantity}
    )

    assert response.status_code == 400
    assert "Enter a whole number from 0 to 9999" in response.content.decode()
    assert lines(shopper_client) == {"Lamp": 2}


@pytest.mark.parametrize("product", ["", "abc", "-4", "99999999999999999999999"])
def test_a_missing_or_malformed_product_id_is_a_400(shopper_client, product):
    response = shopper_client.post(ADD, {"product": product, "quantity": 1})
    assert response.status_code == 400
    assert "Choose a product to add." in response.content.decode()


def test_an_unknown_product_id_is_a_404(shopper_client):
    assert shopper_client.post(ADD, {"product": 987654, "quantity": 1}).status_code == 404


@pytest.mark.parametrize(
    "url",
    [ADD, reverse("cart:update", args=[1]), reverse("cart:remove", args=[1])],
    ids=["add", "update", "remove"],
)
def test_get_on_a_cart_change_is_405(client, url):
    assert client.get(url).status_code == 405


def test_cart_changes_need_a_csrf_token(client):
    csrf_client = client.__class__(enforce_csrf_checks=True)
    lamp = ProductFactory()
    assert add(csrf_client, lamp).status_code == 403
    assert not CartItem.objects.exists()


def test_a_hostile_next_is_ignored(shopper_client):
    response = add(shopper_client, ProductFactory(), next="https://evil.example.net/")
    assert response["Location"] == CART


def test_one_shopper_cannot_see_or_change_anothers_cart(client):
    other_line = CartItemFactory(quantity=2)
    variant = other_line.variant
    client.force_login(UserFactory())

    assert lines(client) == {}
    update = client.post(reverse("cart:update", args=[variant.pk]), {"quantity": 9})
    remove = client.post(reverse("cart:remove", args=[variant.pk]))

    assert update.status_code == 404
    assert remove.status_code == 404
    other_line.refresh_from_db()
    assert other_line.quantity == 2


def test_a_guest_cannot_touch_a_shoppers_cart(client):
    other_line = CartItemFactory(quantity=2)
    response = client.post(reverse("cart:remove", args=[other_line.variant_id]))
    assert response.status_code == 404
    assert CartItem.objects.filter(pk=other_line.pk).exists()


def test_a_shoppers_cart_is_the_same_after_logging_out_and_in(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    add(client, ProductFactory(name="Lamp"), 2)
    client.post(reverse("accounts:logout"))
    assert lines(client) == {}

    client.post(reverse("accounts:login"), {"username": "ada@example.com", "password": PASSWORD})

    assert lines(client) == {"Lamp": 2}


def test_a_shoppers_cart_is_the_same_on_another_device(client):
    user = UserFactory()
    client.force_login(user)
    add(client, ProductFactory(name="Lamp"), 2)

    other_device = client.__class__()
    other_device.force_login(user)

    assert lines(other_device) == {"Lamp": 2}


def test_lines_that_went_inactive_or_short_are_flagged_and_block_checkout(shopper_client):
    gone = ProductFactory(name="Gone")
    short = ProductFactory(name="Short", stock=5)
    fine = ProductFactory(name="Fine")
    for product in (gone, short, fine):
        add(shopper_client, product, 3)
    gone.is_active = False
    gone.save()
    ProductVariant.objects.filter(product=short).update(stock=2)

    page = shopper_client.get(CART)

    contents = page.context["contents"]
    assert [line.product.name for line in contents.problems] == ["Gone", "Short"]
    assert not contents.can_checkout
    html = page.content.decode()
    assert "no longer sold" in html
    assert "Only 2 left" in html


def test_an_out_of_stock_line_can_still_be_removed_or_lowered(shopper_client):
    lamp = ProductFactory(name="Lamp", stock=5)
    add(shopper_client, lamp, 3)
    ProductVariant.objects.filter(product=lamp).update(stock=0)

    raise_ = shopper_client.post(
        reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 2}
    )
    assert "out of stock" in " ".join(messages_of(shopper_client.get(raise_["Location"])))
    shopper_client.post(reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 0})
    assert lines(shopper_client) == {}


def test_the_cart_page_issues_a_fixed_number_of_queries(shopper_client):
    from catalog.cache import forget_local
    from catalog.models import CatalogVersion

    # Made by the migration, gone if a transactional test emptied the tables earlier.
    CatalogVersion.objects.get_or_create(pk=CatalogVersion.ROW)

    def queries():
        forget_local()  # each count from the same start: the version and footer not yet read
        with CaptureQueriesContext(connection) as context:
            assert shopper_client.get(CART).status_code == 200
        return len(context)

    add(shopper_client, ProductFactory())
    one_line = queries()
    for product in ProductFactory.create_batch(20):
        add(shopper_client, product)
    assert queries() == one_line


def test_the_header_shows_the_cart_count_on_other_pages(shopper_client):
    add(shopper_client, ProductFactory(), 3)
    html = shopper_client.get(reverse("catalog:product_list")).content.decode()
    assert 'class="cart-count">(3<' in html


def test_the_product_page_offers_add_to_cart_only_when_in_stock(client):
    in_stock = ProductFactory(stock=1)
    sold_out = ProductFactory(stock=0)
    assert "Add to cart" in client.get(in_stock.get_absolute_url()).content.decode()
    assert "Add to cart" not in client.get(sold_out.get_absolute_url()).content.decode()


def test_guests_get_a_cart_only_when_they_add_something(client):
    client.get(reverse("catalog:product_list"))
    assert not Cart.objects.exists()
    add(client, ProductFactory())
    cart = Cart.objects.get()
    assert cart.user is None
    assert cart.session_key == client.session.session_key


def test_empty_cart_page_for_a_new_visitor(client):
    response = client.get(CART)
    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()
    assert not Cart.objects.exists()


def test_a_cart_factory_cart_belongs_to_its_user():
    cart = CartFactory()
    assert cart.user.cart == cart


def test_a_next_that_looks_like_a_url_name_is_a_plain_path(shopper_client):
    response = add(shopper_client, ProductFactory(), next="0")
    assert response.status_code == 302
    assert response["Location"] == "0"


def test_a_product_name_with_markup_is_shown_escaped_on_the_cart_page(shopper_client):
    add(shopper_client, ProductFactory(name=MARKUP_NAME))

    html = shopper_client.get(CART).content.decode()

    assert ESCAPED_MARKUP_NAME in html
    assert MARKUP_NAME not in html
