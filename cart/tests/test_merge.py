"""A guest's cart joins the shopper's own cart at login."""

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory
from cart.models import Cart
from cart.tests.factories import CartItemFactory
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, only_variant

pytestmark = pytest.mark.django_db


def add(client, product, quantity):
    client.post(reverse("cart:add"), {"product": product.pk, "quantity": quantity})


def login(client, user):
    return client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": PASSWORD, "next": reverse("cart:detail")},
        follow=True,
    )


def lines(response):
    return {line.product.name: line.quantity for line in response.context["contents"].lines}


def test_guest_lines_join_the_users_cart_and_quantities_add_up(client):
    user = UserFactory()
    lamp = ProductFactory(name="Lamp", stock=10)
    mug = ProductFactory(name="Mug", stock=10)
    CartItemFactory(cart__user=user, variant=only_variant(lamp), quantity=2)
    add(client, lamp, 3)
    add(client, mug, 1)

    page = login(client, user)

    assert lines(page) == {"Lamp": 5, "Mug": 1}
    assert list(Cart.objects.values_list("user", flat=True)) == [user.pk]  # guest cart gone


def test_a_merged_line_is_capped_by_stock_with_a_message(client):
    user = UserFactory()
    lamp = ProductFactory(name="Lamp", stock=4)
    CartItemFactory(cart__user=user, variant=only_variant(lamp), quantity=3)
    add(client, lamp, 3)

    page = login(client, user)

    assert lines(page) == {"Lamp": 4}
    assert "Only 4 of Lamp could be kept in your cart." in page.content.decode()


def test_a_merged_line_is_capped_at_the_line_maximum(client, settings):
    settings.CART_MAX_LINE_QUANTITY = 6
    user = UserFactory()
    lamp = ProductFactory(name="Lamp", stock=50)
    CartItemFactory(cart__user=user, variant=only_variant(lamp), quantity=5)
    add(client, lamp, 5)

    assert lines(login(client, user)) == {"Lamp": 6}


def test_a_product_that_went_out_of_stock_is_not_carried_over(client):
    user = UserFactory()
    lamp = ProductFactory(name="Lamp", stock=5)
    mug = ProductFactory(name="Mug", stock=5)
    add(client, lamp, 2)
    add(client, mug, 1)
    ProductVariant.objects.filter(product=lamp).update(stock=0)

    page = login(client, user)

    assert lines(page) == {"Mug": 1}
    assert "Lamp is no longer available, so it was not kept." in page.content.decode()


def test_a_user_without_a_cart_gets_the_guest_lines(client):
    user = UserFactory()
    add(client, ProductFactory(name="Lamp"), 2)
    assert lines(login(client, user)) == {"Lamp": 2}
    assert Cart.objects.get().user == user


def test_login_without_a_guest_cart_leaves_the_users_cart_alone(client):
    user = UserFactory()
    CartItemFactory(cart__user=user, variant=only_variant(ProductFactory(name="Lamp")), quantity=2)
    assert lines(login(client, user)) == {"Lamp": 2}


def test_registering_keeps_the_guest_cart(client):
    add(client, ProductFactory(name="Lamp"), 2)
    client.post(
        reverse("accounts:register"),
        {
            "email": "new@example.com",
            "full_name": "New",
            "password1": "a-walk-in-the-orchard-42",
            "password2": "a-walk-in-the-orchard-42",
        },
    )
    assert lines(client.get(reverse("cart:detail"))) == {"Lamp": 2}
    assert Cart.objects.get().user.email == "new@example.com"
