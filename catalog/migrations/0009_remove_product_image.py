"""Product.image goes: a product's pictures are its ProductImage rows, and nothing else.

0008 made every file in Product.image its product's first picture, and catalog.images kept the
field equal to the first picture's file from then on. A file written there later by a bulk query
(which sends no signals) and never taken in by `make_renditions` is still only in the field:
it becomes the product's first picture here, as `make_renditions` would have made it, before
the column is dropped. Nothing is copied or read from the media storage; the renditions of such
a picture are made by `manage.py make_renditions` (run after `migrate`).

Backwards, the field comes back holding each product's first picture's file ("" without one).
"""

from django.db import migrations
from django.db.models import Exists, F, OuterRef, Subquery

BATCH = 2000
ALT_MAX = 250


def forwards(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductImage = apps.get_model("catalog", "ProductImage")
    only_in_field = (
        Product.objects.exclude(image="")
        .exclude(
            Exists(ProductImage.objects.filter(product=OuterRef("pk"), image=OuterRef("image")))
        )
        .order_by("pk")
        .values_list("pk", "name", "image")
    )
    batch = []

    def write():
        # The product's other pictures move down one place: the field's file was its first.
        ProductImage.objects.filter(product_id__in=[row.product_id for row in batch]).update(
            position=F("position") + 1
        )
        ProductImage.objects.bulk_create(batch)
        batch.clear()

    for pk, name, image in only_in_field.iterator(chunk_size=BATCH):
        alt = (name or "").strip()[:ALT_MAX] or "Product picture"
        batch.append(ProductImage(product_id=pk, image=image, alt=alt, position=0))
        if len(batch) == BATCH:
            write()
    if batch:
        write()


def backwards(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductImage = apps.get_model("catalog", "ProductImage")
    pictures = ProductImage.objects.filter(product=OuterRef("pk"))
    first = pictures.order_by("position", "pk").values("image")[:1]
    Product.objects.filter(Exists(pictures)).update(image=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_product_pictures_from_image"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="product", name="image"),
    ]
