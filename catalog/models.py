"""Categories and products, and the reads the storefront shares."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from catalog.search import product_search_vector
from catalog.validators import validate_product_image
from shop.money import fits_currency, minor_unit_exponent


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"{reverse('catalog:product_list')}?category={self.slug}"


class ProductQuerySet(models.QuerySet):
    def available(self):
        """What shoppers may see: active products."""
        return self.filter(is_active=True)

    def in_stock(self):
        return self.filter(stock__gt=0)


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sku = models.CharField("SKU", max_length=64, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField("active", default=True)
    image = models.ImageField(
        upload_to="products/%Y/%m/", blank=True, validators=[validate_product_image]
    )
    # A default rather than auto_now_add, so imports and the demo seeder can set it.
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gt=0),
                name="catalog_product_price_positive",
                violation_error_message="The price must be more than zero.",
            ),
            models.CheckConstraint(
                condition=models.Q(stock__gte=0),
                name="catalog_product_stock_not_negative",
                violation_error_message="Stock cannot be negative.",
            ),
        ]
        # Partial indexes over active products: the storefront never lists the others.
        indexes = [
            models.Index(
                fields=["-created", "-id"],
                name="catalog_active_newest_idx",
                condition=models.Q(is_active=True),
            ),
            models.Index(
                fields=["price", "id"],
                name="catalog_active_price_idx",
                condition=models.Q(is_active=True),
            ),
            models.Index(
                fields=["name", "id"],
                name="catalog_active_name_idx",
                condition=models.Q(is_active=True),
            ),
            models.Index(
                fields=["category", "-created"],
                name="catalog_active_category_idx",
                condition=models.Q(is_active=True),
            ),
            # Full-text search; created on PostgreSQL only (see the migration).
            GinIndex(product_search_vector(), name="catalog_product_search_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:product_detail", args=[self.slug])

    def clean(self):
        if self.price is not None and not fits_currency(self.price, settings.STORE_CURRENCY):
            places = minor_unit_exponent(settings.STORE_CURRENCY)
            raise ValidationError(
                {
                    "price": f"Prices in {settings.STORE_CURRENCY} have "
                    + (f"at most {places} decimals." if places else "no decimals.")
                }
            )

    @property
    def in_stock(self):
        return self.stock > 0


class CatalogVersion(models.Model):
    """One row: the version cached catalogue pages are keyed by (catalog.cache).

    Kept in PostgreSQL, not in Redis, so it moves on with every change even while Redis is
    away, and a page cached before can never be served under it again.
    """

    ROW = 1

    value = models.BigIntegerField(default=1)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"catalogue version {self.value}"
