"""Filters on the product list: price range, in stock, option values with their counts; numbered
pages; and what the cards say about variants."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.cache import catalog_version
from catalog.models import OptionType, OptionValue, ProductVariant
from catalog.services import product_prices_refresh, variant_set_options
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:product_list")


def names(response):
    assert response.status_code == 200
    return sorted(product.name for product in response.context["products"])


def with_options(name, variants, options=("Size", "Colour"), **kwargs):
    """A product with exactly `variants`: [(values in the order of `options`, price, stock)],
    a fourth item False for an inactive variant. Values are positioned in order of appearance."""
    product = ProductFactory(name=name, variant=None, **kwargs)
    types = {
        option: OptionType.objects.create(product=product, name=option, position=position)
        for position, option in enumerate(options)
    }
    values = {}
    for number, (combination, price, stock, *active) in enumerate(variants):
        chosen = []
        for option, value in zip(options, combination, strict=True):
            if (option, value) not in values:
                values[option, value] = OptionValue.objects.create(
                    option_type=types[option], value=value, position=len(values)
                )
            chosen.append(values[option, value])
        variant = ProductVariant.objects.create(
            product=product,
            sku=f"{product.slug}-{number}",
            price=Decimal(price),
            stock=stock,
            is_active=active[0] if active else True,
            position=number,
        )
        variant_set_options(variant=variant, values=chosen)
    product_prices_refresh(product=product)
    return product


def counts(response):
    """{option: {value: count}} as the page offers them."""
    return {
        facet.option: {value.value: value.count for value in facet.values}
        for facet in response.context["facets"]
    }


def links(html, pattern):
    """The hrefs of the links whose text matches `pattern`, as (path, [query pairs])."""
    found = []
    for href, text in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', html, re.S):
        if re.search(pattern, re.sub(r"<[^>]+>", "", text)):
            parts = urlsplit(unescape(href))
            found.append((parts.path or LIST, parse_qsl(parts.query)))  # "?page=2": this page
    return found


# Options -------------------------------------------------------------------------------------


def test_options_match_when_one_variant_has_every_chosen_value(client):
    # M in Red and L in Blue, but no M in Blue: not what "Size M in Blue" asks for.
    with_options("Mixed tee", [(("M", "Red"), "10", 5), (("L", "Blue"), "10", 5)])
    with_options("Blue M tee", [(("M", "Blue"), "10", 5), (("S", "Red"), "10", 5)])
    ProductFactory(name="Mug")

    response = client.get(LIST, {"option": ["Size:M", "Colour:Blue"]})

    assert names(response) == ["Blue M tee"]


def test_values_of_one_option_widen_the_list_and_options_narrow_it(client):
    with_options("Small red", [(("S", "Red"), "10", 5)])
    with_options("Medium red", [(("M", "Red"), "10", 5)])
    with_options("Large blue", [(("L", "Blue"), "10", 5)])

    assert names(client.get(LIST, {"option": ["Size:S", "Size:M"]})) == ["Medium red", "Small red"]
    assert names(client.get(LIST, {"option": ["Size:S", "Size:L", "Colour:Blue"]})) == [
        "Large blue"
    ]


def test_options_match_by_name_in_any_letter_case_across_products(client):
    with_options("Tee", [(("M",), "10", 5)], options=("Size",))
    with_options("Hoodie", [(("m",), "30", 5)], options=("size",))
    with_options("Jumper", [(("L",), "30", 5)], options=("SIZE",))

    response = client.get(LIST, {"option": "sIzE:M"})

    assert names(response) == ["Hoodie", "Tee"]
    [size] = response.context["facets"]  # one option, in one of its spellings
    assert size.option in {"Size", "size", "SIZE"}
    assert {value.value.upper(): value.count for value in size.values} == {"M": 2, "L": 1}


def test_an_inactive_variant_does_not_make_its_product_match(client):
    with_options("Tee", [(("M",), "10", 5, False), (("L",), "10", 5)], options=("Size",))

    response = client.get(LIST, {"option": "Size:M"})

    assert names(response) == []
    assert counts(response) == {"Size": {"L": 1, "M": 0}}  # M chosen, none to be had
    assert "No products match these filters" in response.content.decode()


# Price and stock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"min_price": "20"}, ["Hoodie", "Lamp"]),  # the hoodie's $30 variant is in range
        ({"max_price": "15"}, ["Hoodie", "Mug"]),  # and so is its $10 one
        ({"min_price": "15", "max_price": "25"}, ["Lamp"]),  # neither of its variants is
        ({"min_price": "25", "max_price": "15"}, ["Lamp"]),  # a range upside down is turned
        ({"min_price": "20.5", "max_price": "20.50"}, ["Lamp"]),
        ({"min_price": "0", "max_price": "10"}, ["Hoodie", "Mug"]),  # bounds are included
    ],
)
def test_the_price_range_is_on_the_variants_prices(client, params, expected):
    with_options("Hoodie", [(("M",), "10", 5), (("XL",), "30", 5)], options=("Size",))
    ProductFactory(name="Lamp", price=Decimal("20.50"))
    ProductFactory(name="Mug", price=Decimal("5.00"))

    assert names(client.get(LIST, params)) == expected


def test_in_stock_only_needs_a_chosen_variant_in_stock(client):
    with_options("Tee", [(("M",), "10", 0), (("L",), "10", 5)], options=("Size",))
    ProductFactory(name="Sold-out lamp", stock=0)
    ProductFactory(name="Mug", stock=3)

    assert names(client.get(LIST, {"in_stock": "1"})) == ["Mug", "Tee"]
    # The tee is in stock, but not in M.
    assert names(client.get(LIST, {"in_stock": "1", "option": "Size:M"})) == []
    assert names(client.get(LIST, {"option": "Size:M"})) == ["Tee"]


def test_price_stock_and_options_are_met_by_the_same_variant(client):
    # An M at $10 that is sold out, an L at $30 in stock: "M, in stock, up to $20" is neither.
    with_options("Tee", [(("M",), "10", 0), (("L",), "30", 5)], options=("Size",))

    assert names(client.get(LIST, {"option": "Size:M", "max_price": "20"})) == ["Tee"]
    assert names(client.get(LIST, {"in_stock": "1", "max_price": "20"})) == []
    assert names(client.get(LIST, {"in_stock": "1", "option": "Size:L", "max_price": "40"})) == [
        "Tee"
    ]


# Junk ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        {"min_price": "abc"},
        {"min_price": "-5"},
        {"max_price": "NaN"},
        {"max_price": "Infinity"},
        {"min_price": "1e400"},
        {"min_price": "9" * 40},
        {"max_price": "10.001"},  # more decimals than a price has
        {"min_price": "1\x00"},
        {"max_price": ""},
        {"in_stock": "yes"},
        {"in_stock": "0"},
        {"in_stock": "\x00"},
        {"option": "Size"},
        {"option": ":"},
        {"option": "Size:"},
        {"option": ":M"},
        {"option": "Size:M\x00"},
        {"option": "x" * 500 + ":M"},
        {"option": "Size:" + "M" * 51},
        {"option": ""},
        {"option": ["Size", "Colour:", "\x00"]},
        {"page": "abc", "option": "%00"},
    ],
)
def test_junk_in_a_filter_falls_back_to_no_filter(client, junk):
    with_options("Tee", [(("M",), "30", 0)], options=("Size",))
    ProductFactory(name="Lamp", price=Decimal("5.00"))

    response = client.get(LIST, junk)

    assert names(response) == ["Lamp", "Tee"]
    assert not response.context["filters"]
    assert not response.context["active_filters"]


def test_more_option_values_than_the_limit_are_left_out(client):
    from catalog.filters import MAX_OPTION_CHOICES

    with_options("Tee", [(("M",), "10", 5)], options=("Size",))
    chosen = [f"Size:V{number:02d}" for number in range(MAX_OPTION_CHOICES + 5)]

    response = client.get(LIST, {"option": ["Size:M", *chosen]})

    assert response.status_code == 200
    assert len(response.context["filters"].options) == MAX_OPTION_CHOICES


# Counts -------------------------------------------------------------------------------------


def test_each_value_counts_the_products_of_the_list_under_the_other_filters(client):
    clothing = CategoryFactory(slug="clothing")
    with_options("Tee", [(("S", "Red"), "10", 5), (("M", "Blue"), "10", 5)], category=clothing)
    with_options("Shirt", [(("M", "Red"), "25", 5), (("L", "Red"), "25", 0)], category=clothing)
    with_options("Jumper", [(("M", "Red"), "40", 5)], category=clothing)
    with_options("Other M", [(("M", "Red"), "10", 5)])  # another category
    ProductFactory(name="Sock", category=clothing)  # no options

    whole = client.get(LIST, {"category": "clothing"})
    assert counts(whole) == {
        "Size": {"S": 1, "M": 3, "L": 1},
        "Colour": {"Red": 3, "Blue": 1},
    }

    red = client.get(LIST, {"category": "clothing", "option": "Colour:Red"})
    # Sizes count red variants; colours count as if no colour were chosen.
    assert counts(red) == {"Size": {"S": 1, "M": 2, "L": 1}, "Colour": {"Red": 3, "Blue": 1}}

    narrowed = client.get(
        LIST,
        {"category": "clothing", "option": ["Colour:Red", "Size:M"], "max_price": "30"},
    )
    assert names(narrowed) == ["Shirt"]
    assert counts(narrowed) == {"Size": {"S": 1, "M": 1, "L": 1}, "Colour": {"Red": 1, "Blue": 1}}

    in_stock = client.get(LIST, {"category": "clothing", "in_stock": "1", "q": "shirt"})
    assert counts(in_stock) == {"Size": {"M": 1}, "Colour": {"Red": 1}}


def test_values_are_offered_in_the_order_of_the_fullest_list(client):
    sizes = [(("S", "Navy"), "10", 5), (("M", "Navy"), "10", 5), (("L", "Sand"), "10", 5)]
    with_options("Tee", [*sizes, (("XL", "Sand"), "10", 5)])
    with_options("Cap", [(("L", "Sand"), "10", 5), (("XL", "Sand"), "10", 5)])  # L first here
    with_options("Scarf", [(("Navy",), "10", 5)], options=("Colour",))  # colour first here

    facets = client.get(LIST).context["facets"]

    assert [(f.option, [v.value for v in f.values]) for f in facets] == [
        ("Size", ["S", "M", "L", "XL"]),
        ("Colour", ["Navy", "Sand"]),
    ]


def test_counts_are_shown_beside_each_value_with_the_choices_kept(client):
    with_options("Tee", [(("S",), "10", 5), (("M",), "10", 5)], options=("Size",))
    with_options("Shirt", [(("M",), "10", 5)], options=("Size",))

    html = client.get(
        LIST, {"option": "Size:M", "min_price": "5", "max_price": "50.5", "in_stock": "1"}
    ).content.decode()

    assert re.search(r"<legend>Size</legend>", html)
    small = re.search(r'<input id="([^"]+)" type="checkbox" name="option" value="Size:S">', html)
    medium = re.search(
        r'<input id="([^"]+)" type="checkbox" name="option" value="Size:M" checked>', html
    )
    assert small
    assert medium
    assert re.search(rf'<label for="{small[1]}">S <span[^>]*>\(1<span', html)
    assert re.search(rf'<label for="{medium[1]}">M <span[^>]*>\(2<span', html)
    assert 'name="min_price" value="5"' in html
    assert 'name="max_price" value="50.5"' in html
    assert 'name="in_stock" value="1" checked' in html
    assert '<button type="submit" class="button">Filter</button>' in html


def test_each_active_filter_has_a_link_that_removes_it_alone(client):
    with_options("Tee", [(("M", "Blue"), "10", 5)])
    query = {
        "q": "tee",
        "sort": "name",
        "min_price": "5",
        "max_price": "50",
        "in_stock": "1",
        "option": ["Size:M", "Colour:Blue"],
    }
    html = client.get(LIST, query).content.decode()
    everything = [
        ("q", "tee"),
        ("sort", "name"),
        ("min_price", "5"),
        ("max_price", "50"),
        ("in_stock", "1"),
        ("option", "Colour:Blue"),
        ("option", "Size:M"),
    ]

    for label, pair in [
        ("Price from \\$5.00", ("min_price", "5")),
        ("Price up to \\$50.00", ("max_price", "50")),
        ("In stock only", ("in_stock", "1")),
        ("Size: M", ("option", "Size:M")),
        ("Colour: Blue", ("option", "Colour:Blue")),
    ]:
        assert links(html, f"Remove filter: {label}") == [
            (LIST, [kept for kept in everything if kept != pair])
        ]
    assert links(html, "Clear all filters") == [(LIST, [("q", "tee"), ("sort", "name")])]


# Pages --------------------------------------------------------------------------------------


def test_numbered_pages_with_first_and_last_keep_the_filters(client, settings):
    settings.PRODUCTS_PER_PAGE = 2
    now = timezone.now()
    for number in range(24):  # 12 pages
        ProductFactory(name=f"Lamp {number:02d}", created=now - timedelta(minutes=number))
    filters = [("max_price", "20"), ("in_stock", "1")]

    html = client.get(LIST, {"in_stock": "1", "max_price": "20", "page": "6"}).content.decode()
    nav = re.search(r'<nav class="pagination" aria-label="Pages">(.*?)</nav>', html, re.S)[1]

    assert links(nav, "^First page$") == [(LIST, filters)]
    assert links(nav, "^Previous page$") == [(LIST, [*filters, ("page", "5")])]
    assert links(nav, "^Next page$") == [(LIST, [*filters, ("page", "7")])]
    assert links(nav, "^Last page$") == [(LIST, [*filters, ("page", "12")])]
    numbered = re.findall(r"<a [^>]*><span class=\"visually-hidden\">Page </span>(\d+)</a>", nav)
    assert numbered == ["4", "5", "7", "8"]
    assert re.findall(
        r'aria-current="page"><span class="visually-hidden">Page </span>(\d+)', nav
    ) == ["6"]
    assert nav.count("…") == 2  # pages left out on both sides


def test_the_first_page_offers_no_way_back_and_the_last_none_forward(client, settings):
    settings.PRODUCTS_PER_PAGE = 2
    ProductFactory.create_batch(5)  # 3 pages

    first = client.get(LIST).content.decode()
    last = client.get(LIST, {"page": "3"}).content.decode()

    assert "First page" not in first
    assert "Previous page" not in first
    assert links(first, "^Page 2$") == [(LIST, [("page", "2")])]
    assert links(first, "^Last page$") == [(LIST, [("page", "3")])]
    assert "…" not in first
    assert "Next page" not in last
    assert "Last page" not in last
    assert links(last, "^Page 1$") == [(LIST, [])]  # the list's own address, not page=1


# Cards --------------------------------------------------------------------------------------


def test_cards_show_from_prices_stock_and_a_link_to_choose_options(client):
    with_options("Hoodie", [(("M",), "30", 0), (("XL",), "32", 4)], options=("Size",))
    with_options("Cap", [(("One",), "12", 0)], options=("Size",))
    ProductFactory(name="Lamp", price=Decimal("20.00"), stock=2)

    html = client.get(LIST).content.decode()
    cards = {
        re.search(r'class="product-card__name">([^<]+)<', card)[1]: card
        for card in html.split('<article class="product-card">')[1:]
    }

    assert 'class="product-card__price">From $30.00</p>' in cards["Hoodie"]
    assert "In stock" in cards["Hoodie"]  # its XL is
    assert "Choose options" in cards["Hoodie"]
    assert "Add to cart" not in cards["Hoodie"]
    assert 'class="product-card__price">$12.00</p>' in cards["Cap"]
    assert "Out of stock" in cards["Cap"]
    assert "Choose options" not in cards["Cap"]
    assert 'class="product-card__price">$20.00</p>' in cards["Lamp"]
    assert "In stock" in cards["Lamp"]
    assert "Add to cart" in cards["Lamp"]


# Queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [2, 10, 24])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {
            "q": "shirt",
            "category": "clothing",
            "sort": "price_desc",
            "min_price": "1",
            "max_price": "100",
            "in_stock": "1",
            "option": ["Colour:Red", "Colour:Blue", "Size:M"],
            "page": "2",
        },
    ],
    ids=["no-filter", "every-filter"],
)
def test_a_list_page_takes_five_queries_whatever_the_filters_and_page_size(
    client, settings, django_assert_num_queries, per_page, params
):
    clothing = CategoryFactory(slug="clothing")
    for number in range(60):
        with_options(
            f"Shirt {number}",
            [(("M", "Red"), "20", 3), (("M", "Blue"), "25", 3), (("L", "Red"), "30", 0)],
            category=clothing,
        )
    ProductFactory.create_batch(3, category=clothing)  # simple products, no options
    settings.PRODUCTS_PER_PAGE = per_page
    catalog_version()  # read once a second per process, not per page: not counted

    # Categories, option counts, the count, the page, the footer's content pages.
    with django_assert_num_queries(5):
        response = client.get(LIST, params)

    assert response.status_code == 200
    assert response.context["page"].number == (2 if params else 1)
    shown = response.content.decode().count('<article class="product-card">')
    assert shown == len(response.context["products"]) == per_page
    assert counts(response)["Size"]["M"] == 60


def test_a_filtered_list_is_not_indexed_and_names_the_unfiltered_list_as_canonical(client):
    CategoryFactory(slug="garden")
    ProductFactory.create_batch(3)

    filtered = client.get(LIST, {"category": "garden", "in_stock": "1", "page": "1"})
    plain = client.get(LIST, {"category": "garden"})

    canonical = '<link rel="canonical" href="http://testserver/products/?category=garden">'
    assert canonical in filtered.content.decode()
    assert '<meta name="robots" content="noindex">' in filtered.content.decode()
    assert canonical in plain.content.decode()
    assert '<meta name="robots" content="noindex">' not in plain.content.decode()
