"""Cart and checkout pages kept for their cart (catalog.cache.cart_page): shown again while
nothing they are made from has changed, never to anyone else, never out of date."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.middleware import get_user
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.models import Address
from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_contents
from catalog import cache as page_cache
from catalog.models import CatalogVersion, ProductVariant
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order
from orders.tests.factories import ADDRESS, default_method, fill_cart, place_order
from pricing.models import ShippingMethod, ShippingZone, TaxRate
from pricing.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db

CART, CHECKOUT = reverse("cart:detail"), reverse("orders:checkout")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHECKOUT_TOKEN = re.compile(r'name="token" value="([^"]+)"')
COUNT = re.compile(r'class="cart-count">\((\d+)<')


@pytest.fixture(autouse=True)
def _version_read_once(monkeypatch):
    # The version row the migration made (a transactional test may have emptied the table),
    # read once, however slow the machine: the query counts below are the pages' own.
    CatalogVersion.objects.get_or_create(pk=CatalogVersion.ROW)
    monkeypatch.setattr(page_cache, "VERSION_MEMO", 3600)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def html(client, path=CART):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def kept_pages():
    """How many cart and checkout pages the shared cache holds."""
    import redis
    from django.conf import settings

    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    return len(list(server.scan_iter(match="*:cart-page:*")))


@pytest.fixture
def lamp():
    return ProductFactory(name="Lamp", price=Decimal("10.00"), stock=9)


def test_a_second_look_at_the_same_cart_is_the_kept_page_for_one_query(lamp):
    shopper = UserFactory()
    fill_cart(shopper, [(lamp, 2)])
    client = signed_in(shopper)
    first = html(client)

    with CaptureQueriesContext(connection) as queries:
        again = html(client)

    # The user with their cart's lines, in one statement: nothing priced, nothing rendered.
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert kept_pages() == 1
    assert CSRF.sub("", again) == CSRF.sub("", first)
    assert "Lamp" in again
    assert "$20.00" in again
    assert COUNT.search(again).group(1) == "2"


def test_a_guests_second_look_is_the_kept_page_with_their_own_count(client, lamp):
    client.post(reverse("cart:add"), {"product": lamp.pk, "quantity": 3})
    html(client)  # with the "Added" message
    first = html(client)

    with CaptureQueriesContext(connection) as queries:
        again = html(client)

    assert len(queries) == 1  # the lines, by the session's key
    assert CSRF.sub("", again) == CSRF.sub("", first)
    assert COUNT.search(again).group(1) == "3"


def test_any_change_of_what_the_page_shows_shows_at_once(
    lamp, settings, django_capture_on_commit_callbacks
):
    settings.STORE_COUNTRY = "GB"
    shopper = UserFactory()
    fill_cart(shopper, [(lamp, 2)])
    client = signed_in(shopper)
    variant = only_variant(lamp)
    zone = ShippingZone.objects.create(name="United Kingdom", countries=["GB"])
    method = ShippingMethod.objects.create(zone=zone, name="Post", price=Decimal("4.00"))
    tax = TaxRate.objects.create(country="GB", name="VAT", rate=Decimal("20"))
    page_cache.forget_local()  # as another process would, a second later
    assert "Shipping to United Kingdom from $4.00" in html(client)

    # Each written as staff or another shopper's checkout write it, none through the page.
    client.post(reverse("cart:update", args=[variant.pk]), {"quantity": 3})
    assert "Subtotal (3 items)</th><td>$30.00</td>" in html(client)
    ProductVariant.objects.filter(pk=variant.pk).update(stock=1)  # sold to someone else
    assert "Only 1 left" in html(client)
    ProductVariant.objects.filter(pk=variant.pk).update(stock=9, price=Decimal("11.00"))
    assert "Subtotal (3 items)</th><td>$33.00</td>" in html(client)
    # Staff's edits in the back office, each committed.
    with django_capture_on_commit_callbacks(execute=True):
        method.price = Decimal("5.00")
        method.save()
    page = html(client)
    assert "Shipping to United Kingdom from $5.00" in page
    assert "Estimated shipping (Post)" in page
    with django_capture_on_commit_callbacks(execute=True):
        tax.rate = Decimal("10")
        tax.save()
    assert "Estimated VAT (10%)" in html(client)
    with django_capture_on_commit_callbacks(execute=True):
        zone.delete()
    page = html(client)
    assert "Estimated shipping (Post)" not in page  # the rest of the world's method instead
    assert "Estimated shipping (" in page


@pytest.mark.django_db(transaction=True)
def test_a_pricing_change_reaches_every_process_by_the_catalogue_version(lamp, settings):
    settings.STORE_COUNTRY = "GB"
    shopper = UserFactory()
    fill_cart(shopper, [(lamp, 1)])
    client = signed_in(shopper)
    zone = ShippingZone.objects.create(name="United Kingdom", countries=["GB"])
    method = ShippingMethod.objects.create(zone=zone, name="Post", price=Decimal("4.00"))
    page_cache.forget_local()
    assert "from $4.00" in html(client)
    version = page_cache.catalog_version()

    method.price = Decimal("6.00")
    method.save()  # committed: the version moves on, in the database every process reads

    page_cache._memo["until"] = 0.0  # another process's memo, a second later
    assert page_cache.catalog_version() > version
    assert "from $6.00" in html(client)


def test_shoppers_with_the_same_lines_never_see_each_others_page(lamp):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    fill_cart(alice, [(lamp, 2)])
    fill_cart(bob, [(lamp, 2)])
    clients = {user: signed_in(user) for user in (alice, bob)}

    pages = {user: html(client) for user, client in clients.items()}
    again = {user: html(client) for user, client in clients.items()}

    assert kept_pages() == 2  # one per cart, however alike
    for user, client in clients.items():
        assert CSRF.sub("", again[user]) == CSRF.sub("", pages[user])
        # Every form on the page has the token of this shopper's own CSRF cookie.
        secret = client.cookies["csrftoken"].value
        assert {_unmask_cipher_token(token) for token in CSRF.findall(again[user])} == {secret}
    assert clients[alice].cookies["csrftoken"].value != clients[bob].cookies["csrftoken"].value
    # The update forms post to each shopper's own lines, with their own token: they work.
    client = clients[bob]
    client.post(reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 1})
    assert "Subtotal (1 item)</th>" in html(client)
    assert "Subtotal (2 items)</th>" in html(clients[alice])


def test_a_message_on_a_kept_page_is_shown_once(lamp):
    shopper = UserFactory()
    fill_cart(shopper, [(lamp, 2)])
    client = signed_in(shopper)
    html(client)  # kept

    # The same quantity again: the cart as it was, and its kept page, with what was done.
    client.post(reverse("cart:update", args=[only_variant(lamp).pk]), {"quantity": 2})

    assert "Updated Lamp to 2." in html(client)
    assert "Updated Lamp" not in html(client)
    assert kept_pages() == 1


def test_a_cart_with_a_code_is_worked_out_on_every_view(lamp):
    shopper = UserFactory()
    code = VoucherFactory(code="SPRING10", value=Decimal("10"))
    cart = fill_cart(shopper, [(lamp, 1)])
    Cart.objects.filter(pk=cart.pk).update(voucher_code="SPRING10")
    client = signed_in(shopper)
    assert "Discount (SPRING10)" in html(client)

    # The clock runs out on the code: nothing of the cart itself has changed.
    type(code).objects.filter(pk=code.pk).update(ends=timezone.now() - timedelta(minutes=1))

    page = html(client)
    assert "Discount (SPRING10)" not in page
    assert "It is not applied to your cart." in page
    assert kept_pages() == 0


def test_a_change_of_the_settings_pages_are_made_with_is_a_new_release(settings):
    before = page_cache.release()
    settings.STORE_CURRENCY = "EUR"
    page_cache.release.cache_clear()
    assert page_cache.release() != before


def test_the_cart_read_with_the_user_is_used_once_then_read_again(lamp):
    shopper = UserFactory()
    cart = fill_cart(shopper, [(lamp, 1)])
    client = signed_in(shopper)
    request = RequestFactory().get(CART)
    request.session = client.session
    request.user = SimpleLazyObject(lambda: get_user(request))

    with CaptureQueriesContext(connection) as queries:
        first = cart_contents(request=request)
    cart.items.update(quantity=4)
    second = cart_contents(request=request)

    assert len(queries) == 1  # the user and the cart in one statement
    assert [line.quantity for line in first.lines] == [1]
    assert [line.quantity for line in second.lines] == [4]


# --- Checkout ------------------------------------------------------------------------------------


@pytest.fixture
def buyer(lamp):
    shopper = UserFactory(full_name="Ada Lovelace")
    fill_cart(shopper, [(lamp, 1)])
    default_method(ADDRESS["country"])
    return shopper


def test_each_look_at_a_kept_checkout_page_has_a_new_one_time_token(buyer):
    client = signed_in(buyer)
    first = html(client, CHECKOUT)

    with CaptureQueriesContext(connection) as queries:
        pages = [html(client, CHECKOUT) for _ in range(2)]

    # The user with the cart, the address book, the last order: per look, nothing else.
    assert len(queries) == 2 * 3
    tokens = [CHECKOUT_TOKEN.search(page).group(1) for page in [first, *pages]]
    assert len(set(tokens)) == 3
    assert all(uuid.UUID(token) for token in tokens)
    assert CSRF.sub("", CHECKOUT_TOKEN.sub("", pages[0])) == CSRF.sub(
        "", CHECKOUT_TOKEN.sub("", pages[1])
    )


def test_a_kept_checkout_page_places_the_order(buyer):
    from orders.tests.test_checkout import page_choices

    client = signed_in(buyer)
    html(client, CHECKOUT)
    choices = page_choices(html(client, CHECKOUT))  # the kept page

    response = client.post(CHECKOUT, {**ADDRESS, **choices, "action": "place"})

    assert response.status_code == 307
    order = Order.objects.get(user=buyer)
    assert str(order.checkout_token) == choices["token"]
    assert only_variant(ProductFactory._meta.model.objects.get(name="Lamp")).stock == 8


def test_the_checkout_page_follows_the_address_book_and_the_last_order(buyer):
    client = signed_in(buyer)
    assert 'value="Ada Lovelace"' in html(client, CHECKOUT)

    Address.objects.create(
        user=buyer, full_name="Ada at Work", address_line1="2 Office Road", city="London",
        postal_code="N1 1AA", country="GB", is_default=True,
    )  # fmt: skip

    page = html(client, CHECKOUT)
    assert "2 Office Road" in page
    assert 'value="Ada at Work"' in page


def test_a_new_saved_address_is_offered_at_once(buyer):
    client = signed_in(buyer)
    assert "3 Side Street" not in html(client, CHECKOUT)

    Address.objects.create(
        user=buyer, full_name="Ada Lovelace", address_line1="3 Side Street", city="Leeds",
        postal_code="LS1 1AA", country="GB",
    )  # fmt: skip

    assert "3 Side Street" in html(client, CHECKOUT)


def test_the_address_the_form_starts_from_follows_the_last_order(lamp):
    shopper = UserFactory()
    last = place_order([(ProductFactory(stock=5), 1)], shopper, city="Bath")
    fill_cart(shopper, [(lamp, 1)])
    client = signed_in(shopper)
    assert 'value="Bath"' in html(client, CHECKOUT)

    Order.objects.filter(pk=last.pk).update(city="Wells")  # corrected by staff

    assert 'value="Wells"' in html(client, CHECKOUT)


def test_a_checkout_with_a_code_is_worked_out_on_every_view(buyer):
    code = VoucherFactory(code="SPRING10", value=Decimal("10"))
    Cart.objects.filter(user=buyer).update(voucher_code="SPRING10")
    client = signed_in(buyer)
    assert "SPRING10" in html(client, CHECKOUT)

    type(code).objects.filter(pk=code.pk).update(ends=timezone.now() - timedelta(minutes=1))

    assert "Discount (SPRING10)" not in html(client, CHECKOUT)
    assert kept_pages() == 0


def test_a_kept_page_is_served_from_the_process_without_redis(lamp):
    from django.core.cache import cache

    shopper = UserFactory()
    fill_cart(shopper, [(lamp, 1)])
    client = signed_in(shopper)
    html(client)
    cache.clear()  # the kept copy gone from Redis: this process still has it

    response = client.get(CART)

    assert "cart/cart.html" not in [template.name for template in response.templates]
    assert "Lamp" in response.content.decode()


def test_one_shoppers_checkout_page_is_never_anothers(lamp):
    alice, bob = UserFactory(full_name="Alice Smith"), UserFactory(full_name="Bob Jones")
    for user in (alice, bob):
        fill_cart(user, [(lamp, 1)])
    default_method(ADDRESS["country"])
    Address.objects.create(
        user=alice, full_name="Alice Smith", address_line1="1 Private Lane", city="York",
        postal_code="Y1 1AA", country="GB", is_default=True,
    )  # fmt: skip
    html(signed_in(alice), CHECKOUT)

    page = html(signed_in(bob), CHECKOUT)

    assert "Private Lane" not in page
    assert "Alice" not in page
    assert 'value="Bob Jones"' in page
    assert kept_pages() == 2


def test_prepared_statements_spare_postgresql_planning_what_is_sent_again(lamp):
    shopper = UserFactory()
    fill_cart(shopper, [(lamp, 1)])
    for _ in range(6):
        Cart.shopper_with_contents(shopper.pk)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert any('"cart_cartitem"' in statement for statement in prepared)


def test_pages_kept_under_the_same_state_at_two_addresses_are_two_pages(rf):
    def page_at(path, text):
        request = rf.get(path)
        request.user = UserFactory.build()
        request.user.header_cart_count = 0
        request.session = {}
        return page_cache.cart_page(
            request, "the same state", lambda: HttpResponse(text), count=0
        ).content.decode()

    assert page_at("/cart/", "the cart") == "the cart"
    assert page_at("/checkout/", "the checkout") == "the checkout"
    assert page_at("/cart/", "rendered again") == "the cart"
