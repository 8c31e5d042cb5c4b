"""Rules the database itself enforces on products."""

from decimal import Decimal

import pytest
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
