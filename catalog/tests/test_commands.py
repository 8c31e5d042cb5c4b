"""`manage.py seed_demo`."""

import os
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from catalog.demo import COLOURS, SIZES, XL_SURCHARGE
from catalog.images import renditions_current
from catalog.models import Category, Product, ProductImage, ProductVariant
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seeds_categories_and_products_with_pictures():
    output = seed("--products", "30", "--seed", "4")

    assert Category.objects.count() == 9
    assert Product.objects.count() == 30
    assert Product.objects.in_stock().exists()
    assert not Product.objects.exclude(pictures__isnull=False).exists()
    for picture in ProductImage.objects.all():
        assert renditions_current(picture.renditions, picture.image.name)
        assert (picture.width, picture.height) == (800, 600)
        files = [picture.image.name, *(file["name"] for file in picture.renditions["files"])]
        assert all(default_storage.exists(name) for name in files)
    assert not DBTaskResult.objects.exists()  # nothing left for the worker
    assert "30 products created" in output
    assert re.search(r"in \d+\.\d\ds", output)


def test_clothing_comes_in_sizes_and_colours_and_the_rest_is_simple():
    seed("--products", "30")

    shirt = Product.objects.filter(category__slug="clothing").first()
    assert [t.name for t in shirt.option_types.all()] == ["Size", "Colour"]
    assert [v.value for v in shirt.option_types.get(name="Size").values.all()] == SIZES
    variants = list(shirt.variants.all())
    assert len(variants) == len(SIZES) * len(COLOURS)
    assert len({v.combination for v in variants}) == len(variants)
    assert variants[0].label == "Size: S / Colour: Navy"
    assert shirt.price_min == min(v.price for v in variants)
    assert shirt.price_max == shirt.price_min + XL_SURCHARGE
    simple = Product.objects.exclude(category__slug="clothing").first()
    [variant] = simple.variants.all()
    assert (variant.combination, variant.label) == ("", "")
    assert simple.price_min == simple.price_max == variant.price


def media_times():
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): os.stat(p).st_mtime_ns for p in root.rglob("*.*")}


def test_pictures_come_several_to_some_products_and_pages_show_their_renditions(client):
    seed("--products", "27")

    counts = Counter(
        Product.objects.exclude(category__slug="clothing").values_list("pictures__product")
    )
    assert set(Counter(counts.values())) == {1, 2}  # some products have several
    shirt = Product.objects.filter(category__slug="clothing").first()
    assert [p.alt for p in shirt.pictures.all()] == [f"{shirt.name} in {c}" for c in COLOURS]
    assert len({p.image.name for p in shirt.pictures.all()}) == len(COLOURS)
    response = client.get(reverse("catalog:product_list"))
    html = response.content.decode()
    assert len(response.context["products"]) > 20
    for product in response.context["products"]:
        cover = product.pictures.first()
        [smallest, *_] = [f for f in cover.renditions["files"] if f["format"] == "PNG"]
        assert f'src="{default_storage.url(smallest["name"])}"' in html
        original = default_storage.url(cover.image.name)
        assert f'"{original}"' not in html
        assert f"{original} " not in html


def test_renditions_are_made_once_per_file_and_reused_by_a_later_run():
    seed("--products", "20")
    files = media_times()
    records = dict(ProductImage.objects.values_list("image", "renditions"))
    assert len(records) < ProductImage.objects.count()  # products share the drawn files

    seed("--products", "40")

    assert media_times() == files  # nothing drawn or made again
    assert Product.objects.count() == 40
    assert dict(ProductImage.objects.values_list("image", "renditions")) == records
    assert not ProductImage.objects.filter(renditions={}).exists()


def test_running_twice_creates_nothing_new():
    seed("--products", "30")
    first = list(
        ProductVariant.objects.order_by("sku").values_list("sku", "product__name", "price")
    )

    output = seed("--products", "30")

    again = ProductVariant.objects.order_by("sku").values_list("sku", "product__name", "price")
    assert list(again) == first
    assert "0 categories and 0 products created" in output


def test_the_same_seed_gives_the_same_catalogue():
    seed("--products", "20", "--seed", "7")
    fields = ("sku", "product__name", "price", "stock")
    first = list(ProductVariant.objects.order_by("sku").values_list(*fields))
    Product.objects.all().delete()

    seed("--products", "20", "--seed", "7")

    assert list(ProductVariant.objects.order_by("sku").values_list(*fields)) == first


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
