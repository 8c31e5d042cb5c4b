"""The product's SKU, price and stock now live on its variants."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

import shop.postgres


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_product_variants_data"),
        # Carts and orders point at variants before the product's columns go.
        ("cart", "0003_cart_lines_variants"),
        ("orders", "0004_order_lines_variants"),
    ]

    operations = [
        # SQLite rebuilds the table to drop columns, and would try to build the PostgreSQL-only
        # search index again from the state: out of the state first, back in at the end.
        shop.postgres.RemoveIndexOnPostgreSQL(
            model_name="product", name="catalog_product_search_idx"
        ),
        migrations.RemoveConstraint(
            model_name="product",
            name="catalog_product_price_positive",
        ),
        migrations.RemoveConstraint(
            model_name="product",
            name="catalog_product_stock_not_negative",
        ),
        migrations.RemoveIndex(
            model_name="product",
            name="catalog_active_price_idx",
        ),
        migrations.RemoveField(
            model_name="product",
            name="price",
        ),
        migrations.RemoveField(
            model_name="product",
            name="sku",
        ),
        migrations.RemoveField(
            model_name="product",
            name="stock",
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True)),
                fields=["price_min", "id"],
                name="catalog_active_price_idx",
            ),
        ),
        shop.postgres.AddIndexOnPostgreSQL(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.SearchVector(
                        "name", config="english", weight="A"
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        "description", config="english", weight="B"
                    ),
                    django.contrib.postgres.search.SearchConfig("english"),
                ),
                name="catalog_product_search_idx",
            ),
        ),
    ]
