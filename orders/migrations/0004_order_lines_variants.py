"""Each order line points at its product's one variant (made by catalog's 0005).

The line's snapshot (name, SKU, price) is left as it was sold; simple products' variants have
no label, so the label stays empty.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    first = ProductVariant.objects.filter(product=OuterRef("product")).order_by("position", "pk")
    OrderItem.objects.filter(variant__isnull=True).update(variant=Subquery(first.values("pk")[:1]))


def backwards(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    product = ProductVariant.objects.filter(pk=OuterRef("variant")).values("product")[:1]
    OrderItem.objects.update(product=Subquery(product))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_orderitem_variant"),
        ("catalog", "0005_product_variants_data"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
