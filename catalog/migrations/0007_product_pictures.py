"""Product pictures: several per product, ordered, with alt text, optionally of one variant."""

import catalog.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_remove_product_sku_price_stock"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProductImage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "image",
                    models.ImageField(
                        help_text="JPEG, PNG, WebP or GIF, at most 5 MB and 6000 pixels a side.",
                        max_length=255,
                        upload_to="products/%Y/%m/",
                        validators=[catalog.validators.validate_product_image],
                        verbose_name="picture",
                    ),
                ),
                (
                    "alt",
                    models.CharField(
                        blank=True,
                        help_text="What the picture shows, for people who cannot see it. Empty: the product's name.",
                        max_length=250,
                        verbose_name="alt text",
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                ("width", models.PositiveIntegerField(editable=False, null=True)),
                ("height", models.PositiveIntegerField(editable=False, null=True)),
                ("renditions", models.JSONField(blank=True, default=dict, editable=False)),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pictures",
                        to="catalog.product",
                    ),
                ),
                (
                    "variant",
                    models.ForeignKey(
                        blank=True,
                        help_text="Optional: the variant this picture shows.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="pictures",
                        to="catalog.productvariant",
                    ),
                ),
            ],
            options={
                "verbose_name": "picture",
                "ordering": ["position", "id"],
                "indexes": [models.Index(fields=["image"], name="catalog_picture_image_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("alt", ""), _negated=True),
                        name="catalog_picture_has_alt",
                        violation_error_message="A picture needs alt text.",
                    )
                ],
            },
        ),
    ]
