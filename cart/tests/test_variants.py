"""Choosing a variant: the product page's form posts option values, the server resolves them."""

import pytest
from django.urls import reverse

from cart.models import CartItem
from catalog.models import OptionValue, ProductVariant
from catalog.tests.factories import ProductFactory, only_variant, product_with_options

pytestmark = pytest.mark.django_db

ADD = reverse("cart:add")


def value(product, type_name, text):
    return OptionValue.objects.get(option_type__product=product, option_type__name=type_name,
                                   value=text)  # fmt: skip


def choose(product, **chosen):
    """The product page's form data for Size=M, Colour=Blue, as option-<type id>=<value id>."""
    return {
        f"option-{value(product, name, text).option_type_id}": value(product, name, text).pk
        for name, text in chosen.items()
    }


def add(client, product, quantity=1, **data):
    return client.post(ADD, {"product": product.pk, "quantity": quantity, **data}, follow=True)


def messages_of(response):
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def shirt():
    return product_with_options("Shirt", {"Size": ["S", "M"], "Colour": ["Red", "Blue"]}, stock=5)


def test_the_chosen_values_put_that_variant_in_the_cart(client, shirt):
    response = add(client, shirt, 2, **choose(shirt, Size="M", Colour="Blue"))

    [line] = CartItem.objects.all()
    assert line.variant.label == "Size: M / Colour: Blue"
    assert line.quantity == 2
    assert "Added 2 × Shirt (Size: M / Colour: Blue) to your cart." in messages_of(response)


def test_a_combination_that_is_not_sold_is_refused_with_a_clear_message(client, shirt):
    ProductVariant.objects.filter(label="Size: S / Colour: Red").delete()

    response = add(client, shirt, **choose(shirt, Size="S", Colour="Red"))

    assert not CartItem.objects.exists()
    assert "Shirt in Size: S / Colour: Red is not available" in messages_of(response)


def test_a_sold_out_combination_is_refused_with_a_clear_message(client, shirt):
    ProductVariant.objects.filter(label="Size: M / Colour: Red").update(stock=0)

    response = add(client, shirt, **choose(shirt, Size="M", Colour="Red"))

    assert not CartItem.objects.exists()
    assert "Shirt (Size: M / Colour: Red) is out of stock" in messages_of(response)


def test_options_left_out_are_an_impossible_combination(client, shirt):
    response = add(client, shirt, **choose(shirt, Size="M"))
    assert not CartItem.objects.exists()
    assert "is not available" in messages_of(response)


def test_a_variant_of_another_product_is_refused_with_400(client, shirt):
    lamp = ProductFactory(name="Lamp")

    response = client.post(ADD, {"product": shirt.pk, "variant": only_variant(lamp).pk,
                                 "quantity": 1})  # fmt: skip

    assert response.status_code == 400
    assert "not one of this product&#x27;s" in response.content.decode()
    assert not CartItem.objects.exists()


def test_an_option_value_of_another_product_is_refused_with_400(client, shirt):
    other = product_with_options("Hat", {"Size": ["S", "M"]})
    data = choose(shirt, Size="M", Colour="Blue")
    size_type = value(shirt, "Size", "M").option_type_id
    data[f"option-{size_type}"] = value(other, "Size", "M").pk

    response = client.post(ADD, {"product": shirt.pk, "quantity": 1, **data})

    assert response.status_code == 400
    assert "not this product&#x27;s" in response.content.decode()
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("junk", ["", "abc", "-1", "1" * 30, "\x00"])
def test_junk_option_values_are_refused_with_400(client, shirt, junk):
    size_type = value(shirt, "Size", "M").option_type_id
    response = client.post(ADD, {"product": shirt.pk, "quantity": 1, f"option-{size_type}": junk})
    assert response.status_code == 400
    assert not CartItem.objects.exists()


def test_a_simple_product_needs_no_choice(client):
    lamp = ProductFactory(name="Lamp")
    add(client, lamp)
    assert CartItem.objects.get().variant == only_variant(lamp)


def test_two_variants_of_one_product_are_two_lines(client, shirt):
    add(client, shirt, **choose(shirt, Size="S", Colour="Red"))
    add(client, shirt, **choose(shirt, Size="M", Colour="Red"))
    page = client.get(reverse("cart:detail")).content.decode()
    assert CartItem.objects.count() == 2
    assert "Size: S / Colour: Red" in page
    assert "Size: M / Colour: Red" in page


def test_the_product_page_offers_one_labelled_control_per_option(client, shirt):
    html = client.get(shirt.get_absolute_url()).content.decode()
    for option_type in shirt.option_types.all():
        assert f'<label for="option-{option_type.pk}">{option_type.name}</label>' in html
        assert f'name="option-{option_type.pk}"' in html
    assert html.count('itemtype="https://schema.org/Offer"') == 4
    assert "js/variant-picker" in html
