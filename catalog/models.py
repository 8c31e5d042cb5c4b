"""Categories and products, and the reads the storefront shares."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

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
        """Products with at least one active variant in stock."""
        return self.filter(Exists(ProductVariant.objects.sellable().filter(product=OuterRef("pk"))))

    def for_cards(self):
        """What a product card shows, in the list's one query: the category, `has_stock` (any
        active variant in stock) and `has_options` (the shopper must choose, so the card links
        to the product instead of adding it), and its first picture (with_cover_picture)."""
        return (
            self.select_related("category")
            .with_cover_picture()
            .annotate(
                has_stock=Exists(ProductVariant.objects.sellable().filter(product=OuterRef("pk"))),
                has_options=Exists(OptionType.objects.filter(product=OuterRef("pk"))),
            )
        )

    def with_cover_picture(self):
        """`cover_picture_record`: the first picture and its renditions' record, in the same
        query, for Product.cover_picture (a card, a back-office thumbnail) to need none."""
        first = (
            ProductImage.objects.filter(product=OuterRef("pk"))
            .order_by("position", "id")
            .values(
                record=JSONObject(
                    name="image", alt="alt", width="width", height="height", renditions="renditions"
                )
            )
        )
        return self.annotate(
            cover_picture_record=Subquery(first[:1], output_field=models.JSONField())
        )


class Product(models.Model):
    """What a shopper browses. What is sold is one of its variants (ProductVariant): a simple
    product has exactly one, with no option values. Its pictures are its ProductImage rows
    (`pictures`), the first of them its cover."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField("active", default=True)
    # The lowest and highest price of the active variants, kept by catalog.services
    # (product_prices_refresh) so lists can show and sort by "from" prices without a join.
    price_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, editable=False)
    price_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, editable=False)
    # A default rather than auto_now_add, so imports and the demo seeder can set it.
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        # Partial indexes over active products: the storefront never lists the others.
        indexes = [
            models.Index(
                fields=["-created", "-id"],
                name="catalog_active_newest_idx",
                condition=models.Q(is_active=True),
            ),
            models.Index(
                fields=["price_min", "id"],
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

    @property
    def price_varies(self):
        return self.price_min is not None and self.price_min != self.price_max

    @property
    def cover_picture(self):
        """The first picture as pages draw it (catalog.images.PictureSources), or None. No
        query on querysets from for_cards(); one otherwise."""
        from catalog.images import product_cover

        return product_cover(self)

    @cached_property
    def gallery(self):
        """Every picture as pages draw them, in order: read once per instance (one query, or
        none when prefetched), so the product page's preview tags and its gallery share it."""
        from catalog.images import product_gallery

        return product_gallery(self)


def validate_price_fits_currency(price):
    if price is not None and not fits_currency(price, settings.STORE_CURRENCY):
        places = minor_unit_exponent(settings.STORE_CURRENCY)
        raise ValidationError(
            f"Prices in {settings.STORE_CURRENCY} have "
            + (f"at most {places} decimals." if places else "no decimals.")
        )


class OptionType(models.Model):
    """One way a product's variants differ (Size, Colour), in the order shoppers choose them."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="option_types")
    name = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="catalog_option_type_unique")
        ]

    def __str__(self):
        return self.name


class OptionValue(models.Model):
    option_type = models.ForeignKey(OptionType, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["option_type", "value"], name="catalog_option_value_unique"
            )
        ]

    def __str__(self):
        return self.value


class ProductVariantQuerySet(models.QuerySet):
    def sellable(self):
        """Active variants with stock (of any product: filter on the product as well)."""
        return self.filter(is_active=True, stock__gt=0)


class ProductVariant(models.Model):
    """What is sold: SKU, price and stock, and one value per option type of its product."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), validate_price_fits_currency],
    )
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField("active", default=True)
    position = models.PositiveSmallIntegerField(default=0)
    option_values = models.ManyToManyField(
        OptionValue, through="VariantOption", related_name="variants", blank=True
    )
    # The ids of its option values, sorted and joined ("" for a simple product's one variant),
    # kept by catalog.services: the unique constraint on it is what stops two variants of a
    # product from meaning the same thing.
    combination = models.CharField(max_length=255, blank=True, default="", editable=False)
    # "Size: M / Colour: Blue" from its option values, kept by catalog.services with them, so a
    # cart or an order shows it without reading the options ("" for a simple product).
    label = models.CharField(max_length=255, blank=True, default="", editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = ProductVariantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gt=0),
                name="catalog_variant_price_positive",
                violation_error_message="The price must be more than zero.",
            ),
            models.CheckConstraint(
                condition=models.Q(stock__gte=0),
                name="catalog_variant_stock_not_negative",
                violation_error_message="Stock cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["product", "combination"],
                name="catalog_variant_one_per_combination",
                violation_error_message="This product already has a variant with these options.",
            ),
        ]
        indexes = [
            # "Is any variant of this product in stock?" for every product on a list page.
            models.Index(
                fields=["product"],
                name="catalog_variant_sellable_idx",
                condition=models.Q(is_active=True, stock__gt=0),
            ),
        ]

    def __str__(self):
        return f"{self.product.name} ({self.label})" if self.label else self.product.name

    @property
    def in_stock(self):
        return self.stock > 0


class VariantOption(models.Model):
    """A variant's value for one option type of its product: exactly one per type."""

    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="options")
    option_type = models.ForeignKey(OptionType, on_delete=models.CASCADE, related_name="+")
    value = models.ForeignKey(OptionValue, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "option_type"], name="catalog_variant_one_value_per_option"
            )
        ]

    def __str__(self):
        return f"{self.option_type}: {self.value}"


class ProductImage(models.Model):
    """A picture of a product, in the order shoppers see them (the first is on its card), with
    alt text; tied to a variant when it shows that one (the product page switches to it when
    the shopper picks the variant). Its renditions are made once and recorded here; see
    catalog.images."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="pictures")
    variant = models.ForeignKey(
        ProductVariant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pictures",
        help_text="Optional: the variant this picture shows.",
    )
    image = models.ImageField(
        "picture",
        upload_to="products/%Y/%m/",
        max_length=255,
        validators=[validate_product_image],
        help_text="JPEG, PNG, WebP or GIF, at most 5 MB and 6000 pixels a side.",
    )
    alt = models.CharField(
        "alt text",
        max_length=250,
        blank=True,
        help_text="What the picture shows, for people who cannot see it. Empty: the product's "
        "name.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    # Of the picture as shown (turned upright), and the renditions made from it: filled by
    # catalog.images when the renditions are made.
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    renditions = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = "picture"
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(alt=""),
                name="catalog_picture_has_alt",
                violation_error_message="A picture needs alt text.",
            ),
        ]
        # Rows sharing a file share its renditions (catalog.images).
        indexes = [models.Index(fields=["image"], name="catalog_picture_image_idx")]

    def __str__(self):
        return self.alt or self.image.name

    def save(self, *args, **kwargs):
        from catalog.images import picture_saved, renditions_current

        update_fields = kwargs.get("update_fields")
        self._default_alt()
        self._check_variant()
        old_name, old_renditions = None, None
        if update_fields is None or "image" in update_fields:
            if not self._state.adding:
                stored = type(self).objects.filter(pk=self.pk).values_list("image", "renditions")
                old_name, old_renditions = stored.first() or (None, None)
            file_changed = (
                self._state.adding
                or not getattr(self.image, "_committed", True)
                or self.image.name != old_name
            )
        else:
            file_changed = False
        if file_changed and not (
            getattr(self.image, "_committed", True)
            and renditions_current(self.renditions, self.image.name)
        ):
            # Another file: the record (and the size) described the one before.
            self.renditions, self.width, self.height = {}, None, None
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "renditions", "width", "height"}
        super().save(*args, **kwargs)
        picture_saved(
            self, old_name=old_name, old_renditions=old_renditions, file_changed=file_changed
        )

    def _product(self):
        if self.product_id is not None or "product" in self._state.fields_cache:
            return self.product
        return None

    def _default_alt(self):
        if not (self.alt or "").strip():
            product = self._product()
            self.alt = (product.name.strip() if product else "") or "Product picture"
        self.alt = self.alt.strip()

    def _check_variant(self):
        if self.variant_id is None:
            return
        product = self._product()
        if product is None or self.variant.product_id != product.pk:
            raise ValidationError(
                {"variant": "This variant is not one of this product's."}, code="other_product"
            )

    def clean(self):
        super().clean()
        self._default_alt()
        self._check_variant()


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


# Pictures' files follow their rows (catalog.images). Here rather than in catalog.receivers so
# that whatever loads the models has it.
@receiver(post_delete, sender=ProductImage, dispatch_uid="catalog.picture_deleted")
def _picture_deleted(sender, instance, **kwargs):
    from catalog.images import picture_deleted

    picture_deleted(instance)
