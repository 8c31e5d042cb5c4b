"""The anonymous page cache: fast, shared only where nothing is personal, never stale."""

import re
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.cache import catalog_changed
from catalog.models import CatalogVersion, Product, ProductVariant
from catalog.services import product_prices_refresh, variant_save
from catalog.tests.factories import ProductFactory, only_variant, product_with_options
from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db


def stored_pages():
    """Pages in the shared cache, counted in Redis itself (the sessions live there too)."""
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    return sum(1 for _ in server.scan_iter(match="*:page:*"))


def version():
    return CatalogVersion.objects.get(pk=CatalogVersion.ROW).value


def queries(client, path):
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context), response.content.decode()


@pytest.mark.parametrize("path", ["/", "/products/?sort=name", "/products/lamp/"])
def test_a_second_anonymous_visit_is_served_without_the_database(client, path):
    ProductFactory(slug="lamp")
    first, _ = queries(client, path)
    second, _ = queries(Client(), path)
    assert first > 0
    assert second == 0


def test_a_price_change_reaches_the_product_page_at_once(
    client, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="lamp", price=Decimal("10.00"))
    assert "$10.00" in client.get("/products/lamp/").content.decode()

    variant = only_variant(product)
    variant.price = Decimal("12.50")
    with django_capture_on_commit_callbacks(execute=True):
        # As the back office saves a product's variants.
        variant_save(variant=variant, changed_fields=["price"])
        product_prices_refresh(product=product)
        catalog_changed()

    html = Client().get("/products/lamp/").content.decode()
    assert "$12.50" in html
    assert "$10.00" not in html


def test_a_change_made_by_another_process_reaches_the_page_within_the_version_memo(client):
    from catalog import cache as page_cache

    product = ProductFactory(slug="lamp", price=Decimal("10.00"))
    assert "$10.00" in client.get("/products/lamp/").content.decode()
    assert "$10.00" in Client().get("/products/lamp/").content.decode()  # from this process

    # Another worker changes the price: the row and the version, nothing in this process.
    ProductVariant.objects.filter(product=product).update(price=Decimal("12.50"))
    Product.objects.filter(pk=product.pk).update(
        price_min=Decimal("12.50"), price_max=Decimal("12.50")
    )
    CatalogVersion.objects.update(value=F("value") + 1)
    assert "$10.00" in Client().get("/products/lamp/").content.decode()  # within the second
    page_cache._memo["until"] = 0.0  # the version memo's second has passed

    assert "$12.50" in Client().get("/products/lamp/").content.decode()


def test_the_pages_kept_in_the_process_are_bounded(client, settings):
    from catalog import cache as page_cache

    ProductFactory(slug="lamp")
    for number in range(page_cache.RECENT_PAGES + 10):
        assert Client().get(f"/products/?q=lamp{number}").status_code == 200
    assert len(page_cache._recent) == page_cache.RECENT_PAGES


def test_stock_taken_by_an_order_reaches_the_product_page(
    client, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="lamp", stock=1)
    assert "In stock" in client.get("/products/lamp/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        place_order([(product, 1)])

    assert "Out of stock" in Client().get("/products/lamp/").content.decode()


def test_an_order_that_leaves_stock_keeps_the_cached_pages(
    client, django_capture_on_commit_callbacks
):
    lamp = ProductFactory(slug="lamp", stock=3)
    assert "In stock" in client.get("/products/lamp/").content.decode()
    before = version()

    with django_capture_on_commit_callbacks(execute=True):
        place_order([(lamp, 2)])  # one left: the pages show the same
    assert version() == before

    with django_capture_on_commit_callbacks(execute=True):
        place_order([(lamp, 1)])  # sold out
    assert version() == before + 1
    assert "Out of stock" in Client().get("/products/lamp/").content.decode()


def test_the_version_moves_on_after_the_change_commits_not_inside_its_transaction(
    client, django_capture_on_commit_callbacks
):
    # Bumped inside, the version row would stay locked until the change commits: every
    # checkout that sells a product out and every restock would queue on that one row.
    lamp = ProductFactory(slug="lamp", stock=1)
    client.get("/products/lamp/")
    before = version()

    with django_capture_on_commit_callbacks() as after_commit:
        place_order([(lamp, 1)])
        assert version() == before

    assert after_commit
    for callback in after_commit:
        callback()
    assert version() == before + 1


def test_the_admin_bulk_actions_reach_the_pages(client, django_capture_on_commit_callbacks):
    from accounts.tests.factories import catalog_manager

    product = ProductFactory(slug="lamp", name="Lamp")
    assert "Lamp" in Client().get("/products/").content.decode()
    client.force_login(catalog_manager())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:catalog_product_changelist"),
            {"action": "deactivate", "_selected_action": [product.pk]},
        )
    assert "Lamp" not in Client().get("/products/").content.decode()


def test_each_visitor_gets_a_csrf_token_of_their_own_that_works():
    product = ProductFactory(slug="lamp")
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        html = visitor.get("/products/lamp/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert token != "__csrf__"
        response = visitor.post(
            reverse("cart:add"),
            {"csrfmiddlewaretoken": token, "product": product.pk, "quantity": 1},
        )
        assert response.status_code == 302


def test_a_signed_in_shopper_is_never_served_the_anonymous_page(client, shopper):
    ProductFactory(slug="lamp")
    Client().get("/products/lamp/")  # cached for anonymous visitors

    # No cart, no message: being signed in is all that sets this shopper apart.
    assert not client.cookies.get("messages")
    assert "cart_id" not in client.session
    html = client.get("/products/lamp/").content.decode()

    assert "Your orders" in html
    assert "Log in" not in html


def test_a_guest_with_a_cart_is_never_served_the_anonymous_page(client):
    product = ProductFactory(slug="lamp")
    Client().get("/products/lamp/")  # cached for anonymous visitors
    client.post(reverse("cart:add"), {"product": product.pk, "quantity": 3})
    client.cookies.pop("messages", None)  # the "Added" message seen: only the cart is left

    html = client.get("/products/lamp/").content.decode()

    assert 'class="cart-count">(3<' in html


def test_a_message_is_shown_not_cached(client):
    product = ProductFactory(slug="lamp")
    response = client.post(
        reverse("cart:add"), {"product": product.pk, "quantity": 1, "next": "/products/lamp/"}
    )
    assert "Added 1" in client.get(response["Location"]).content.decode()
    assert "Added 1" not in Client().get("/products/lamp/").content.decode()


def test_made_up_query_parameters_and_page_numbers_share_one_cached_page():
    from catalog import cache as page_cache

    ProductFactory(slug="lamp")
    assert Client().get("/products/").status_code == 200
    for number in range(50):
        assert Client().get(f"/products/?utm_source=mail{number}&x{number}=1").status_code == 200
        assert Client().get(f"/products/?page=junk{number}").status_code == 200
        assert Client().get(f"/products/?page={number + 2}").status_code == 200  # past the end

    assert stored_pages() == 1
    assert len(page_cache._recent) == 1


def test_the_same_parameters_in_another_order_are_the_same_cached_page():
    ProductFactory(slug="lamp", name="Lamp")
    Client().get("/products/?q=lamp&sort=name")
    count, html = queries(Client(), "/products/?sort=name&q=lamp&utm_source=mail")
    assert count == 0
    assert "Lamp" in html
    assert stored_pages() == 1


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=01",
        "page=2",  # past the end: the last page is shown
        "sort=bogus",
        "sort=relevance",  # only while searching
        "q=%20lamp",
        pytest.param(f"q={'x' * 101}", id="q-longer-than-the-cut"),
        "q=lamp&q=mug",
        "category=%20garden",
    ],
)
def test_a_page_from_values_not_in_their_canonical_form_is_shown_not_stored(query):
    from catalog.tests.factories import CategoryFactory

    ProductFactory(slug="lamp", name="Lamp", category=CategoryFactory(slug="garden"))

    response = Client().get(f"/products/?{query}")

    assert response.status_code == 200
    assert stored_pages() == 0


def test_a_page_cached_from_a_url_with_made_up_parameters_carries_none_of_them():
    ProductFactory.create_batch(30)
    ProductFactory(slug="lamp")
    Client().get("/products/?sort=name&page=2&utm_campaign=SOMEONE-ELSES")
    Client().get("/products/lamp/?ref=SOMEONE-ELSES")

    for path, back_to in [
        ("/products/?sort=name&page=2", "/products/?sort=name&amp;page=2"),
        ("/products/lamp/", "/products/lamp/"),
    ]:
        count, html = queries(Client(), path)
        assert count == 0  # the page cached from the other visitor's URL
        assert "SOMEONE-ELSES" not in html
        assert f'name="next" value="{back_to}"' in html


# Filters: option values may be given in any order; every other form is shown, not stored.


def clothing():
    product_with_options(
        name="Tee", slug="tee", options={"Size": ["S", "M"], "Colour": ["Red", "Blue"]}
    )
    product_with_options(name="Cap", slug="cap", options={"Size": ["L"], "Colour": ["Blue"]})


def test_the_same_filters_in_another_order_are_the_same_cached_page():
    clothing()
    first = "/products/?option=Size:M&in_stock=1&option=Colour:Blue"
    again = "/products/?option=Colour:Blue&in_stock=1&option=Size:M&utm_source=mail"
    count, html = queries(Client(), first)
    assert count > 0
    assert stored_pages() == 1

    count, html_again = queries(Client(), again)

    assert count == 0
    assert html_again == html
    assert 'class="product-card__name">Tee<' in html
    assert 'class="product-card__name">Cap<' not in html


def test_a_page_filtered_one_way_is_never_served_for_another():
    clothing()
    small = Client().get("/products/?option=Size:S").content.decode()
    large = Client().get("/products/?option=Size:L").content.decode()
    assert 'class="product-card__name">Tee<' in small
    assert 'class="product-card__name">Cap<' not in small
    assert 'class="product-card__name">Cap<' in large
    assert 'class="product-card__name">Tee<' not in large
    for query in ["in_stock=1", "min_price=5", "max_price=100"]:
        assert Client().get(f"/products/?{query}").status_code == 200
    assert stored_pages() == 5


def test_a_canonical_filtered_page_is_stored_and_so_is_every_page_its_links_lead_to():
    clothing()
    path = (
        "/products/?q=tee&sort=name&min_price=5&max_price=100.5&in_stock=1"
        "&option=Colour:Blue&option=Size:M"
    )
    html = Client().get(path).content.decode()
    assert stored_pages() == 1
    removals = re.findall(r'class="active-filters__remove" href="([^"]+)"', html)
    clear = re.findall(r'href="([^"]+)">Clear all filters<', html)
    assert len(removals) == 5
    assert len(clear) == 1

    for number, href in enumerate([*removals, *clear], start=2):
        assert Client().get(href.replace("&amp;", "&")).status_code == 200
        assert stored_pages() == number


@pytest.mark.parametrize(
    "query",
    [
        "option=size:m",  # not as the catalogue spells it
        "option=Size:%20M",
        "option=Size:M&option=Size:M",
        "option=Size:M&option=size:M",
        "option=Size:XL",  # no such value
        "option=Fabric:Wool",  # no such option
        "option=Size",
        "option=Size:M&option=:",
        "min_price=10.00",
        "min_price=1e1",
        "min_price=-0",
        "min_price=abc",
        "max_price=10.001",
        "min_price=50&max_price=10",  # upside down: turned round
        "in_stock=yes",
        "in_stock=1&in_stock=1",
        "min_price=5&min_price=6",
        "&".join(f"option=Size:V{n}" for n in range(12)),
    ],
)
def test_a_filtered_page_from_values_not_in_their_canonical_form_is_shown_not_stored(query):
    clothing()

    response = Client().get(f"/products/?{query}")

    assert response.status_code == 200
    assert stored_pages() == 0
