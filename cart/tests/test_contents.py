"""The cart read in one statement (Cart.contents_of) is the cart the ORM reads, and the cart page
shows each line as it did when the template read the models."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart import models as cart_models
from cart.forms import VoucherForm
from cart.models import Cart
from cart.tests.factories import CartFactory, CartItemFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory, only_variant, product_with_options
from orders.tests.factories import fill_cart
from pricing.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db

CART = reverse("cart:detail")


def fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def assert_same_contents(read, orm):
    assert read.voucher_code == orm.voucher_code
    assert [fields(line) for line in read.lines] == [fields(line) for line in orm.lines]
    for line, expected in zip(read.lines, orm.lines, strict=True):
        assert fields(line.variant) == fields(expected.variant)
        assert fields(line.variant.product) == fields(expected.variant.product)
        assert line.line_total == expected.line_total
        assert line.problem == expected.problem
        assert not line._state.adding
        assert line._state.db == expected._state.db == "default"


def test_a_shoppers_cart_read_in_one_statement_is_the_cart_the_orm_reads(
    django_assert_num_queries,
):
    user = UserFactory()
    shirt = product_with_options(options={"Size": ["S", "M"]}, price=Decimal("20.00"), stock=5)
    gone = ProductFactory(name="Gone", price=Decimal("3.10"))
    cart = fill_cart(user, [(gone, 2), *((variant, 1) for variant in shirt.variants.all())])
    Product.objects.filter(pk=gone.pk).update(is_active=False)
    Cart.objects.filter(pk=cart.pk).update(voucher_code="SPRING10")

    with django_assert_num_queries(1):
        read = Cart.contents_of(user=user)
        problems = [line.problem for line in read.lines]  # nothing more is read for these

    assert_same_contents(read, Cart.objects.get(pk=cart.pk).contents())
    assert read.voucher_code == "SPRING10"
    assert problems == ["This product is no longer sold. Remove it to check out.", None, None]


def test_a_guest_cart_is_found_by_its_session_and_no_other():
    mine = CartItemFactory(cart=CartFactory(user=None, session_key="a" * 32), quantity=3).cart
    CartItemFactory(cart=CartFactory(user=None, session_key="b" * 32))

    read = Cart.contents_of(session_key="a" * 32)

    assert_same_contents(read, mine.contents())
    assert [line.quantity for line in read.lines] == [3]


def test_no_cart_and_an_empty_cart_read_as_empty_contents():
    empty = CartFactory(voucher_code="SPRING10")
    assert Cart.contents_of(user=UserFactory()).lines == []
    assert Cart.contents_of(user=empty.user).lines == []
    assert Cart.contents_of(session_key="c" * 32).lines == []


def test_a_shopper_read_with_their_cart_is_the_user_and_cart_read_apart(
    django_assert_num_queries,
):
    user = UserFactory(full_name="Ada Lovelace")
    shirt = product_with_options(options={"Size": ["S", "M"]}, price=Decimal("20.00"), stock=5)
    cart = fill_cart(user, [(variant, 2) for variant in shirt.variants.all()])
    Cart.objects.filter(pk=cart.pk).update(voucher_code="SPRING10")
    fill_cart(UserFactory(), [(ProductFactory(), 1)])  # someone else's cart, never read

    with django_assert_num_queries(1):
        shopper, read = Cart.shopper_with_contents(user.pk)

    assert fields(shopper) == fields(type(user).objects.get(pk=user.pk))
    assert not shopper._state.adding
    assert_same_contents(read, Cart.objects.get(pk=cart.pk).contents())
    assert read.state == Cart.contents_of(user=user).state
    assert read.count == 4


def test_a_shopper_without_lines_reads_with_empty_contents_and_no_one_as_nothing():
    lonely, idle = UserFactory(), CartFactory(voucher_code="SPRING10").user

    for user in (lonely, idle):
        shopper, read = Cart.shopper_with_contents(user.pk)
        assert shopper == user
        assert (read.lines, read.voucher_code, read.state) == ([], "", "")
    assert Cart.shopper_with_contents(10**9) == (None, None)


def test_the_state_of_a_cart_changes_with_anything_its_lines_are_read_from():
    cart = fill_cart(UserFactory(), [(ProductFactory(price=Decimal("4.25"), stock=9), 2)])
    variant = cart.items.get().variant
    states = [Cart.contents_of(user=cart.user).state]
    changes = [
        lambda: cart.items.update(quantity=3),
        lambda: type(variant).objects.filter(pk=variant.pk).update(price=Decimal("4.30")),
        lambda: type(variant).objects.filter(pk=variant.pk).update(stock=8),
        lambda: Product.objects.filter(pk=variant.product_id).update(name="Renamed"),
        lambda: Cart.objects.filter(pk=cart.pk).update(voucher_code="SPRING10"),
    ]
    for change in changes:
        change()
        states.append(Cart.contents_of(user=cart.user).state)

    assert len(set(states)) == len(states)


def test_values_are_converted_where_the_database_needs_it(monkeypatch):
    # PostgreSQL gives Python values as they are; SQLite, say, gives text the ORM converts.
    cart = fill_cart(UserFactory(), [(ProductFactory(price=Decimal("4.25")), 1)])
    price = next(
        n for n, f in enumerate(cart_models._lines_statement("postgresql", "user")[1])
        if f.attname == "price"
    )  # fmt: skip
    statement = cart_models._lines_statement.__wrapped__("postgresql", "user")
    monkeypatch.setattr(
        cart_models, "_lines_statement", lambda vendor, owner: (*statement[:2], True)
    )
    monkeypatch.setattr(
        cart_models,
        "_converters",
        lambda columns: [(price, columns[price], [lambda value, col, conn: value * 2])],
    )

    read = Cart.contents_of(user=cart.user)

    assert read.lines[0].variant.price == Decimal("8.50")


def test_the_cart_page_reads_the_shopper_their_cart_and_its_lines_in_one_query(client, shopper):
    fill_cart(shopper, [(ProductFactory(), 1), (ProductFactory(), 2)])

    with CaptureQueriesContext(connection) as queries:
        assert client.get(CART).status_code == 200

    # (The header's count is the lines' own: the page passes it.)
    reads = [q["sql"] for q in queries if '"cart_cart' in q["sql"] or '"accounts_user"' in q["sql"]]
    assert len(reads) == 1
    assert '"accounts_user"' in reads[0]
    assert '"catalog_product"' in reads[0]


def test_the_cart_page_shows_a_line_with_its_name_options_links_and_discount(client, shopper):
    VoucherFactory(code="SPRING10")
    variant = product_with_options(
        name="Shirt <b>", options={"Size": ["M"]}, price=Decimal("20.00")
    ).variants.get()
    gone = ProductFactory(name="Gone", price=Decimal("5.00"))
    cart = fill_cart(shopper, [(variant, 2), (gone, 1)])
    Cart.objects.filter(pk=cart.pk).update(voucher_code="SPRING10")
    Product.objects.filter(pk=gone.pk).update(is_active=False)
    gone_variant = only_variant(gone)

    html = client.get(CART).content.decode()

    shirt = "Shirt &lt;b&gt;"
    assert f'<a href="{variant.product.get_absolute_url()}">{shirt}</a>' in html
    assert '<br><span class="variant-label">Size: M</span>' in html
    assert f'action="{reverse("cart:update", args=[variant.pk])}"' in html
    assert f'action="{reverse("cart:remove", args=[variant.pk])}"' in html
    assert (
        f'<label for="quantity-{variant.pk}" class="visually-hidden">'
        f"Quantity of {shirt} (Size: M)</label>"
    ) in html
    assert html.count(f'<span class="visually-hidden"> {shirt} (Size: M)</span>') == 2
    assert 'name="quantity" value="2"' in html
    assert '<td data-label="Price">$20.00</td>' in html
    assert '<td data-label="Total">$40.00<br><span class="muted">Discount −$4.00</span>' in html
    # A product no longer sold: named, not linked, and flagged.
    assert re.search(r"\n\s+Gone\n", html)
    assert f'href="{gone.get_absolute_url()}"' not in html
    assert 'class="cart-line--problem"' in html
    assert "Quantity of Gone</label>" in html
    assert f'id="quantity-{gone_variant.pk}"' in html


def test_the_discount_code_box_is_the_voucher_forms_own_field(client, shopper):
    fill_cart(shopper, [(ProductFactory(), 1)])
    field = VoucherForm()["code"]

    html = client.get(CART).content.decode()

    assert f'<label for="{field.id_for_label}">{field.label}</label>' in html
    assert str(field) in html
    assert 'name="code"' in str(field)
    assert 'maxlength="40"' in str(field)
