"""Rules the database itself enforces on products."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", [Decimal("0.00"), Decimal("-1.00")])
def test_the_database_refuses_a_price_that_is_not_positive(price):
    with pytest.raises(IntegrityError, match="catalog_product_price_positive"):
        ProductFactory(price=price)


def test_the_database_refuses_negative_stock_on_create():
    with pytest.raises(IntegrityError, match="catalog_product_stock_not_negative"):
        ProductFactory(stock=-1)


def test_the_database_refuses_a_decrement_below_zero():
    product = ProductFactory(stock=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=F("stock") - 3)
    product.refresh_from_db()
    assert product.stock == 2


@pytest.mark.parametrize("field", ["slug", "sku"])
def test_slug_and_sku_are_unique(field):
    ProductFactory(**{field: "SAME"})
    with pytest.raises(IntegrityError):
        ProductFactory(**{field: "SAME"})


def test_a_category_with_products_cannot_be_deleted():
    from django.db.models import ProtectedError

    category = CategoryFactory()
    ProductFactory(category=category)
    with pytest.raises(ProtectedError):
        category.delete()


def test_available_means_active():
    shown = ProductFactory()
    ProductFactory(is_active=False)
    assert list(Product.objects.available()) == [shown]


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
    product = ProductFactory.build(category=CategoryFactory(), price=price)
    if refused:
        with pytest.raises(ValidationError) as error:
            product.full_clean()
        assert error.value.message_dict["price"] == [f"Prices in {currency} have no decimals."]
    else:
        product.full_clean()
