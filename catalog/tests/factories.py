"""Factories for the catalogue."""

import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    description = "A plain thing."
    price = Decimal("10.00")
    stock = 10


# A product name that would run a script and bold a word on any page that printed it raw; every
# page that shows product names is checked to show this escaped.
MARKUP_NAME = "<script>alert(1)</script><b>x</b>"
ESCAPED_MARKUP_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"


def image_upload(name="photo.png", image_format="PNG", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, format=image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "BMP": "image/bmp"}[image_format]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)
