"""Factories for the catalogue."""

import io
import itertools
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import Category, OptionType, OptionValue, Product, ProductVariant
from catalog.services import product_prices_refresh, variant_set_options


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A simple product: one variant, no options, with the SKU, price and stock given.

    ProductFactory(price=..., stock=..., sku=...) as before variants existed; the variant is
    `product.variants.get()` (or `only_variant(product)`).
    """

    class Meta:
        model = Product
        skip_postgeneration_save = True  # the variant is saved on its own

    class Params:
        sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
        price = Decimal("10.00")
        stock = 10

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A plain thing."
    price_min = factory.SelfAttribute("price")
    price_max = factory.SelfAttribute("price")
    variant = factory.RelatedFactory(
        "catalog.tests.factories.VariantFactory",
        factory_related_name="product",
        sku=factory.SelfAttribute("..sku"),
        price=factory.SelfAttribute("..price"),
        stock=factory.SelfAttribute("..stock"),
    )


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory, variant=None)
    sku = factory.Sequence(lambda n: f"VAR-{n:05d}")
    price = Decimal("10.00")
    stock = 10


def only_variant(product):
    """The one variant of a simple product (as ProductFactory makes it), fresh from the database."""
    return ProductVariant.objects.select_related("product").get(product=product)


def product_with_options(name="Shirt", options=None, price=Decimal("20.00"), stock=5, **kwargs):
    """A product with option types and one variant per combination of their values.

    `options` is {"Size": ["S", "M"], "Colour": ["Red", "Blue"]} (in order); every variant
    gets `price` and `stock`. Returns the product; its variants carry their labels.
    """
    options = options or {"Size": ["S", "M", "L"], "Colour": ["Red", "Blue"]}
    product = ProductFactory(name=name, variant=None, price=price, **kwargs)
    values_per_type = []
    for position, (type_name, values) in enumerate(options.items()):
        option_type = OptionType.objects.create(product=product, name=type_name, position=position)
        values_per_type.append(
            [
                OptionValue.objects.create(option_type=option_type, value=value, position=i)
                for i, value in enumerate(values)
            ]
        )
    for n, combination in enumerate(itertools.product(*values_per_type)):
        variant = ProductVariant.objects.create(
            product=product, sku=f"{product.slug}-{n}", price=price, stock=stock, position=n
        )
        variant_set_options(variant=variant, values=list(combination))
    product_prices_refresh(product=product)
    return product


# A product name that would run a script and bold a word on any page that printed it raw; every
# page that shows product names is checked to show this escaped.
MARKUP_NAME = "<script>alert(1)</script><b>x</b>"
ESCAPED_MARKUP_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"


def image_upload(name="photo.png", image_format="PNG", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, format=image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "BMP": "image/bmp"}[image_format]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)
