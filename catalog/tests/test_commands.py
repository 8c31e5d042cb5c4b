"""`manage.py seed_demo`."""

import re
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from catalog.models import Category, Product
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seeds_categories_and_products_with_pictures():
    output = seed("--products", "30", "--seed", "4")

    assert Category.objects.count() == 8
    assert Product.objects.count() == 30
    assert Product.objects.filter(stock__gt=0).exists()
    assert all(default_storage.exists(p.image.name) for p in Product.objects.all()[:8])
    assert "30 products created" in output
    assert re.search(r"in \d+\.\d\ds", output)


def test_running_twice_creates_nothing_new():
    seed("--products", "30")
    first = list(Product.objects.order_by("sku").values_list("sku", "name", "price"))

    output = seed("--products", "30")

    assert list(Product.objects.order_by("sku").values_list("sku", "name", "price")) == first
    assert "0 categories and 0 products created" in output


def test_the_same_seed_gives_the_same_catalogue():
    seed("--products", "20", "--seed", "7")
    first = list(Product.objects.order_by("sku").values_list("name", "price", "stock"))
    Product.objects.all().delete()

    seed("--products", "20", "--seed", "7")

    assert list(Product.objects.order_by("sku").values_list("name", "price", "stock")) == first


def test_if_empty_leaves_a_stocked_store_alone():
    ProductFactory()
    output = seed("--if-empty")
    assert Product.objects.count() == 1
    assert "already has products" in output


def test_a_negative_count_is_refused():
    with pytest.raises(CommandError):
        seed("--products", "-1")


def test_ten_thousand_products_with_progress_and_timing():
    output = seed("--products", "10000")

    assert Product.objects.count() == 10000
    assert "10,000/10,000 products" in output
    seconds = float(re.search(r"in (\d+\.\d+)s", output).group(1))
    assert seconds < 60
