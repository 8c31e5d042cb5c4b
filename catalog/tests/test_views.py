"""The public catalogue pages, through their URLs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.cache import catalog_version, forget_local
from catalog.tests.factories import CategoryFactory, ProductFactory, product_with_options

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:product_list")


def names(response):
    return [product.name for product in response.context["products"]]


def test_home_shows_the_newest_in_stock_products_and_the_categories(client):
    category = CategoryFactory(name="Garden")
    now = timezone.now()
    ProductFactory(name="Old trowel", created=now - timedelta(days=3), category=category)
    ProductFactory(name="New planter", created=now - timedelta(days=1))
    ProductFactory(name="Sold-out kite", stock=0, created=now)
    ProductFactory(name="Hidden lamp", is_active=False, created=now)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert names(response) == ["New planter", "Old trowel"]
    assert "Garden" in response.content.decode()


def test_product_list_hides_inactive_products_and_shows_out_of_stock_ones(client):
    ProductFactory(name="Lamp", stock=0)
    ProductFactory(name="Hidden", is_active=False)

    response = client.get(LIST)

    assert names(response) == ["Lamp"]
    assert "Out of stock" in response.content.decode()


def test_product_list_pages_by_24(client):
    ProductFactory.create_batch(30)
    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})
    assert len(first.context["products"]) == 24
    assert len(second.context["products"]) == 6
    assert 'rel="next"' in first.content.decode()


def test_product_list_filters_by_category(client):
    garden = CategoryFactory(slug="garden", name="Garden")
    ProductFactory(name="Trowel", category=garden)
    ProductFactory(name="Mug")

    response = client.get(LIST, {"category": "garden"})

    assert names(response) == ["Trowel"]
    assert response.context["category"] == garden


@pytest.mark.parametrize("slug", ["no-such-category", "not a slug!", "x" * 500])
def test_an_unknown_category_is_not_found(client, slug):
    assert client.get(LIST, {"category": slug}).status_code == 404


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Cherry", "Banana", "Apple"]),
        ("price_asc", ["Banana", "Cherry", "Apple"]),
        ("price_desc", ["Apple", "Cherry", "Banana"]),
        ("name", ["Apple", "Banana", "Cherry"]),
    ],
)
def test_every_sort(client, sort, expected):
    now = timezone.now()
    ProductFactory(name="Apple", price=Decimal("30.00"), created=now - timedelta(days=3))
    ProductFactory(name="Banana", price=Decimal("5.00"), created=now - timedelta(days=2))
    ProductFactory(name="Cherry", price=Decimal("12.50"), created=now - timedelta(days=1))

    assert names(client.get(LIST, {"sort": sort})) == expected


@pytest.mark.parametrize("sort", ["bogus", "", "price", "relevance", "-price; drop table"])
def test_an_unknown_sort_falls_back_to_newest(client, sort):
    now = timezone.now()
    ProductFactory(name="Older", created=now - timedelta(days=1))
    ProductFactory(name="Newer", created=now)

    response = client.get(LIST, {"sort": sort})

    assert response.status_code == 200
    assert names(response) == ["Newer", "Older"]


@pytest.mark.parametrize(
    ("page", "shown"),
    [("abc", 1), ("0", 1), ("-3", 1), ("1.5", 1), ("", 1), ("2", 2), ("999", 2), ("9" * 40, 2)],
)
def test_bad_or_out_of_range_pages_show_the_first_or_last_page(client, page, shown):
    ProductFactory.create_batch(30)

    response = client.get(LIST, {"page": page})

    assert response.status_code == 200
    assert response.context["page"].number == shown


def test_an_empty_catalogue_lists_nothing_without_error(client):
    response = client.get(LIST, {"page": "7"})
    assert response.status_code == 200
    assert "No products here yet" in response.content.decode()


def test_search_ranks_a_name_match_above_a_description_match(client):
    now = timezone.now()
    ProductFactory(name="Brass lantern", description="Bright light.", created=now - timedelta(1))
    ProductFactory(name="Camp stove", description="Pairs well with a lantern.", created=now)
    ProductFactory(name="Teapot", description="For tea.")

    response = client.get(LIST, {"q": "lantern"})

    assert names(response) == ["Brass lantern", "Camp stove"]
    assert response.context["sort"] == "relevance"


def test_search_matches_word_forms(client):
    ProductFactory(name="Watering can", description="")
    assert names(client.get(LIST, {"q": "water"})) == ["Watering can"]


def test_search_combines_with_category_and_sort(client):
    garden = CategoryFactory(slug="garden")
    ProductFactory(name="Garden lantern", category=garden, price=Decimal("20.00"))
    ProductFactory(name="Cheap garden lantern", category=garden, price=Decimal("5.00"))
    ProductFactory(name="Kitchen lantern", price=Decimal("1.00"))

    response = client.get(LIST, {"q": "lantern", "category": "garden", "sort": "price_asc"})

    assert names(response) == ["Cheap garden lantern", "Garden lantern"]


@pytest.mark.parametrize(
    "text", ["", "   ", "\x00", "'", '"unclosed', "a & b | !c", "<script>", "x" * 5000, "-", "OR"]
)
def test_odd_search_text_never_fails(client, text):
    ProductFactory(name="Lamp")
    response = client.get(LIST, {"q": text})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_search_with_no_match_says_what_to_do(client):
    ProductFactory(name="Lamp")
    response = client.get(LIST, {"q": "zeppelin"})
    assert names(response) == []
    assert "Nothing matches" in response.content.decode()


def test_product_list_issues_a_fixed_number_of_queries(client, settings):
    ProductFactory.create_batch(50)

    def queries(per_page, params):
        settings.PRODUCTS_PER_PAGE = per_page
        cache.clear()  # the uncached render is what is counted
        forget_local()
        catalog_version()  # read once a second per process, not per page: not counted
        with CaptureQueriesContext(connection) as context:
            assert client.get(LIST, params).status_code == 200
        return len(context)

    every_filter = {"q": "product", "min_price": "1", "max_price": "50", "in_stock": "1"}
    params = ({}, {"q": "product"}, every_filter)  # options: see test_filters
    counts = {queries(size, query) for size in (5, 24, 50) for query in params}
    # Categories, option counts, the count, the page with its categories joined, the footer's
    # content pages.
    assert counts == {5}


def test_a_category_page_stays_within_its_query_budget(client, django_assert_max_num_queries):
    kitchen = CategoryFactory(slug="kitchen")
    ProductFactory.create_batch(24, category=kitchen)
    ProductFactory.create_batch(3)  # in other categories, which the filter lists
    catalog_version()  # read once a second per process, not per page: not counted

    with django_assert_max_num_queries(5):
        response = client.get(LIST, {"category": "kitchen", "sort": "name"})

    assert response.status_code == 200
    assert len(response.context["products"]) == 24
    assert response.content.decode().count('class="product-card"') == 24


def test_product_detail_shows_the_product_with_seo_data(client, django_assert_num_queries):
    product = ProductFactory(
        name="Copper kettle", slug="copper-kettle", sku="KET-1", price=Decimal("1234.50")
    )
    catalog_version()  # read once a second per process, not per page: not counted

    # The product, its option types, their values, its active variants, their options, its
    # pictures, and the footer's content pages: the same however many variants it has.
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(product.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Copper kettle · " in html
    assert '<link rel="canonical" href="http://testserver/products/copper-kettle/">' in html
    assert 'itemtype="https://schema.org/Product"' in html
    assert '<meta itemprop="price" content="1234.50">' in html
    assert '<meta itemprop="priceCurrency" content="USD">' in html
    assert "$1,234.50" in html
    assert 'href="https://schema.org/InStock"' in html
    assert "img/placeholder." in html


DETAIL_QUERIES = 6


@pytest.mark.parametrize(("sizes", "colours"), [(["S"], ["Red", "Blue"]), (["S", "M", "L", "XL"],
                                                 ["Red", "Blue", "Green"])])  # fmt: skip
def test_a_product_with_many_variants_costs_the_same_queries(
    client, django_assert_num_queries, sizes, colours
):
    shirt = product_with_options("Shirt", {"Size": sizes, "Colour": colours})
    catalog_version()

    # One more than a simple product: the options' values.
    with django_assert_num_queries(DETAIL_QUERIES + 1):
        response = client.get(shirt.get_absolute_url())

    assert response.status_code == 200
    offers = response.content.decode().count('itemtype="https://schema.org/Offer"')
    assert offers == len(sizes) * len(colours)


def test_product_detail_marks_out_of_stock(client):
    product = ProductFactory(stock=0)
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Out of stock" in html
    assert 'href="https://schema.org/OutOfStock"' in html


@pytest.mark.parametrize("slug", ["no-such-product", "inactive"])
def test_unknown_or_inactive_products_are_not_found(client, slug):
    ProductFactory(slug="inactive", is_active=False)
    response = client.get(reverse("catalog:product_detail", args=[slug]))
    assert response.status_code == 404


def test_prices_use_the_store_currency(client, settings):
    settings.STORE_CURRENCY = "EUR"
    product = ProductFactory(price=Decimal("9.90"))
    assert "€9.90" in client.get(product.get_absolute_url()).content.decode()
