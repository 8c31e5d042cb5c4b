"""Rules the database itself enforces on products and their variants."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError

from catalog.models import OptionType, OptionValue, Product, ProductVariant, VariantOption
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    VariantFactory,
    only_variant,
    product_with_options,
)
from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", [Decimal("0.00"), Decimal("-1.00")])
def test_the_database_refuses_a_price_that_is_not_positive(price):
    with pytest.raises(IntegrityError, match="catalog_variant_price_positive"):
        ProductFactory(price=price)


def test_the_database_refuses_negative_stock_on_create():
    with pytest.raises(IntegrityError, match="catalog_variant_stock_not_negative"):
        ProductFactory(stock=-1)


def test_the_database_refuses_a_decrement_below_zero():
    variant = only_variant(ProductFactory(stock=2))
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.filter(pk=variant.pk).update(stock=F("stock") - 3)
    variant.refresh_from_db()
    assert variant.stock == 2


def test_slugs_are_unique():
    ProductFactory(slug="same")
    with pytest.raises(IntegrityError):
        ProductFactory(slug="same")


def test_skus_are_unique_across_products():
    ProductFactory(sku="SAME")
    with pytest.raises(IntegrityError, match="sku"):
        ProductFactory(sku="SAME")


def test_the_database_refuses_two_variants_of_a_product_with_one_combination():
    shirt = product_with_options(options={"Size": ["S", "M"]})
    small = shirt.variants.get(label="Size: S")
    with pytest.raises(IntegrityError, match="catalog_variant_one_per_combination"):
        VariantFactory(product=shirt, combination=small.combination)


def test_two_simple_products_each_have_a_variant_without_options():
    first, second = ProductFactory(), ProductFactory()
    assert only_variant(first).combination == only_variant(second).combination == ""


def test_the_database_refuses_two_values_of_one_option_for_a_variant():
    shirt = product_with_options(options={"Size": ["S", "M"]})
    variant = shirt.variants.get(label="Size: S")
    size = OptionType.objects.get(product=shirt)
    with pytest.raises(IntegrityError, match="catalog_variant_one_value_per_option"):
        VariantOption.objects.create(
            variant=variant, option_type=size, value=size.values.get(value="M")
        )


def test_option_names_and_values_are_unique_per_product_and_option():
    shirt = product_with_options(options={"Size": ["S"]})
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionType.objects.create(product=shirt, name="Size")
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionValue.objects.create(option_type=shirt.option_types.get(), value="S")
    OptionType.objects.create(product=ProductFactory(), name="Size")  # another product's


def test_a_category_with_products_cannot_be_deleted():
    category = CategoryFactory()
    ProductFactory(category=category)
    with pytest.raises(ProtectedError):
        category.delete()


def test_a_variant_that_was_ordered_keeps_its_product():
    product = ProductFactory()
    place_order([(product, 1)])
    with pytest.raises(ProtectedError):
        product.delete()
    assert Product.objects.filter(pk=product.pk).exists()


def test_available_means_active():
    shown = ProductFactory()
    ProductFactory(is_active=False)
    assert list(Product.objects.available()) == [shown]


def test_in_stock_means_an_active_variant_with_stock():
    stocked = ProductFactory(stock=1)
    ProductFactory(stock=0)
    ProductFactory(stock=5, variant__is_active=False)
    assert list(Product.objects.in_stock()) == [stocked]


@pytest.mark.parametrize(
    ("currency", "price", "refused"),
    [
        ("JPY", Decimal("100.50"), True),
        ("JPY", Decimal("100.00"), False),
        ("USD", Decimal("12.34"), False),
        ("KWD", Decimal("12.34"), False),
    ],
)
def test_a_price_cannot_have_more_decimals_than_the_store_currency(
    settings, currency, price, refused
):
    settings.STORE_CURRENCY = currency
    variant = VariantFactory.build(product=ProductFactory(variant=None), price=price)
    if refused:
        with pytest.raises(ValidationError) as error:
            variant.full_clean()
        assert error.value.message_dict["price"] == [f"Prices in {currency} have no decimals."]
    else:
        variant.full_clean()
