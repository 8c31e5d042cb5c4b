"""Every existing product becomes a product with one variant, with its SKU, price and stock.

Runs in bulk (10,000 products take about a second); carts and orders are moved to the variants
by their own apps' migrations, before catalog's 0006 drops the product's old columns.
"""

from django.db import migrations
from django.db.models import F

BATCH = 2000


def forwards(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    done = set(ProductVariant.objects.values_list("product_id", flat=True))
    batch = []
    rows = Product.objects.order_by("pk").values_list("pk", "sku", "price", "stock", "created")
    for pk, sku, price, stock, created in rows.iterator(chunk_size=BATCH):
        if pk in done:
            continue
        batch.append(
            ProductVariant(
                product_id=pk, sku=sku, price=price, stock=stock, is_active=True,
                position=0, combination="", created=created,
            )
        )  # fmt: skip
        if len(batch) == BATCH:
            ProductVariant.objects.bulk_create(batch)
            batch = []
    ProductVariant.objects.bulk_create(batch)
    # One variant each: its price is the product's "from" and "to" price.
    Product.objects.update(price_min=F("price"), price_max=F("price"))


def backwards(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    ProductVariant = apps.get_model("catalog", "ProductVariant")
    for variant in ProductVariant.objects.order_by("product_id", "position", "pk").iterator():
        Product.objects.filter(pk=variant.product_id).update(
            sku=variant.sku, price=variant.price, stock=variant.stock
        )
    ProductVariant.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_product_variants"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
