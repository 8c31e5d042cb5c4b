"""Each cart line points at its product's one variant (made by catalog's 0005)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    CartItem = apps.get_model("cart", "CartItem")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    first = ProductVariant.objects.filter(product=OuterRef("product")).order_by("position", "pk")
    CartItem.objects.filter(variant__isnull=True).update(variant=Subquery(first.values("pk")[:1]))


def backwards(apps, schema_editor):
    CartItem = apps.get_model("cart", "CartItem")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    product = ProductVariant.objects.filter(pk=OuterRef("variant")).values("product")[:1]
    CartItem.objects.update(product=Subquery(product))


class Migration(migrations.Migration):
    dependencies = [
        ("cart", "0002_cartitem_variant"),
        ("catalog", "0005_product_variants_data"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
