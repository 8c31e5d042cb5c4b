"""What an order costs beyond its lines: shipping zones and methods, tax rates, discount codes."""

import functools
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models, transaction
from django.db.models import Exists, F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django_countries.fields import CountryField

from shop.money import fits_currency

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def validate_currency_amount(value):
    if value is not None and not fits_currency(value, settings.STORE_CURRENCY):
        raise ValidationError(
            f"{value} has more decimals than {settings.STORE_CURRENCY} has.", code="decimals"
        )


class ShippingZone(models.Model):
    """A set of countries shipped to alike; one zone may be "the rest of the world"."""

    name = models.CharField(max_length=100)
    countries = CountryField(multiple=True, blank=True)
    rest_of_world = models.BooleanField(
        "rest of the world",
        default=False,
        help_text="Covers every country no other zone lists. At most one zone can.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["rest_of_world"],
                condition=Q(rest_of_world=True),
                name="pricing_zone_one_rest_of_world",
                violation_error_message="Another zone already covers the rest of the world.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if not self.rest_of_world and not self.countries:
            raise ValidationError("List the zone's countries, or make it the rest of the world.")


class ShippingMethodQuerySet(models.QuerySet):
    def for_country(self, country):
        """The active methods a shopper in `country` may choose, cheapest first.

        A country listed by some zone gets that zone's methods; any other country gets the
        "rest of the world" zone's, if there is one.
        """
        if not country:
            return self.none()
        listed = ShippingZone.objects.filter(countries__contains=str(country))
        # One statement: asking first whether any zone lists the country cost a round trip.
        zones = Q(zone__in=listed) | (Q(zone__rest_of_world=True) & ~Exists(listed))
        return self.filter(zones, is_active=True).order_by("price", "name", "pk")


class ShippingMethod(models.Model):
    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), validate_currency_amount],
    )
    free_from = models.DecimalField(
        "free from",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), validate_currency_amount],
        help_text="Free when the goods come to this much or more, after discounts. Empty: never.",
    )
    delivery_estimate = models.CharField(
        max_length=100, blank=True, help_text='What the shopper is told, e.g. "2-4 working days".'
    )
    is_active = models.BooleanField("active", default=True)

    objects = ShippingMethodQuerySet.as_manager()

    class Meta:
        ordering = ["zone__name", "price", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0) & (Q(free_from__isnull=True) | Q(free_from__gte=0)),
                name="pricing_method_amounts_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.zone})"


class TaxRate(models.Model):
    """The tax charged where an order is delivered: a country, or one region of it."""

    country = CountryField()
    region = models.CharField(
        "state / region",
        max_length=100,
        blank=True,
        help_text="Empty: the whole country. A region's rate wins over the country's.",
    )
    name = models.CharField(max_length=50, default="Tax", help_text='Shown to shoppers: "VAT".')
    rate = models.DecimalField("rate (%)", max_digits=6, decimal_places=3, validators=PERCENT)
    shipping_rate = models.DecimalField(
        "shipping rate (%)",
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=PERCENT,
        help_text="Empty: shipping is taxed at the goods' rate. 0: shipping is not taxed.",
    )

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(
                "country",
                Upper("region"),
                name="pricing_taxrate_one_per_place",
                violation_error_message="This country or region already has a rate.",
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100)
                & (Q(shipping_rate__isnull=True) | Q(shipping_rate__gte=0, shipping_rate__lte=100)),
                name="pricing_taxrate_percent",
            ),
        ]

    def __str__(self):
        place = f"{self.country.name}, {self.region}" if self.region else self.country.name
        return f"{self.name} {self.rate.normalize()}% ({place})"

    @property
    def shipping_percent(self):
        return self.rate if self.shipping_rate is None else self.shipping_rate


def tax_rate_for(country, region=""):
    """The rate for a delivery address: its region's if there is one, else its country's."""
    if not country:
        return None
    sql, params = _rates_sql(connection.vendor, str(country))
    rates = {r.region.upper(): r for r in TaxRate.objects.raw(sql, params)}
    return rates.get((region or "").strip().upper()) or rates.get("")


@functools.lru_cache(maxsize=512)  # a few hundred countries; any other text is one more entry
def _rates_sql(vendor, country):
    # Compiled by the ORM once per country: compiling took longer than running it, on every
    # page that prices a cart.
    return TaxRate.objects.filter(country=country).query.sql_with_params()


class VoucherKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage off"
    FIXED = "fixed", "Fixed amount off"
    FREE_SHIPPING = "free_shipping", "Free shipping"


class Voucher(models.Model):
    code = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]+$", "Use letters, digits, - and _ only (no spaces).", "code"
            )
        ],
        help_text="What shoppers type; letter case does not matter. Letters, digits, - and _.",
    )
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=VoucherKind.choices)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The percentage, or the amount off. Not used for free shipping.",
    )
    min_subtotal = models.DecimalField(
        "minimum subtotal",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), validate_currency_amount],
        help_text="The goods the code applies to must come to at least this much.",
    )
    starts = models.DateTimeField(null=True, blank=True)
    ends = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(
        "use limit", null=True, blank=True, help_text="How many orders may use it. Empty: no limit."
    )
    # The uses counted against `usage_limit`, by checkout under the row's lock; the database
    # refuses more. Only while there is a limit: a code without one is never written by
    # checkout (its uses are its redemptions), and save() counts them when a limit is set.
    used = models.PositiveIntegerField(default=0, editable=False)
    once_per_customer = models.BooleanField(
        "one use per customer",
        default=False,
        help_text="A customer (an email address, for guests too) may use it once.",
    )
    categories = models.ManyToManyField(
        "catalog.Category",
        blank=True,
        related_name="+",
        help_text="Only goods in these categories are discounted. Empty: any.",
    )
    products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="+", help_text="Only these products."
    )
    is_active = models.BooleanField("active", default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                Upper("code"),
                name="pricing_voucher_code_unique",
                violation_error_message="Another discount code is spelled the same.",
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(used__lte=F("usage_limit")),
                name="pricing_voucher_not_over_used",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__gt=0, value__lte=100),
                name="pricing_voucher_percentage_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="fixed") | Q(value__gt=0), name="pricing_voucher_fixed_valid"
            ),
            models.CheckConstraint(
                condition=Q(starts__isnull=True) | Q(ends__isnull=True) | Q(ends__gt=F("starts")),
                name="pricing_voucher_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, update_fields=None, **kwargs):
        self.code = normalize_code(self.code)
        if self._state.adding:
            super().save(*args, update_fields=update_fields, **kwargs)
            return
        if update_fields is None:
            # `used` is counted by checkout: an edit saving the count it read earlier would
            # undo the uses made since.
            update_fields = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "used"
            ]
        update_fields = list(update_fields)
        with transaction.atomic(using=kwargs.get("using")):
            # FOR UPDATE waits for every checkout that priced an order with the code (each
            # holds FOR KEY SHARE on it until it commits: pricing.services.voucher_find), and
            # holds off new ones until this edit commits: no order is placed on terms that
            # changed under it, and the count below misses no use in flight.
            list(Voucher.objects.select_for_update().filter(pk=self.pk).values_list("pk"))
            if self.usage_limit is not None and "usage_limit" in update_fields:
                self.used = self.redemptions.count()
                update_fields.append("used")
            super().save(*args, update_fields=update_fields, **kwargs)

    def clean(self):
        self.code = normalize_code(self.code)
        if self.kind in (VoucherKind.PERCENTAGE, VoucherKind.FIXED) and not self.value:
            raise ValidationError({"value": "Say how much the code takes off."})
        if self.kind == VoucherKind.PERCENTAGE and self.value > 100:
            raise ValidationError({"value": "A percentage cannot be over 100."})
        if self.kind == VoucherKind.FIXED:
            try:
                validate_currency_amount(self.value)
            except ValidationError as exc:
                raise ValidationError({"value": exc.messages}) from exc
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": "The end must come after the start."})

    @property
    def uses_left(self):
        return None if self.usage_limit is None else max(self.usage_limit - self.used, 0)

    def is_current(self, now=None):
        now = now or timezone.now()
        return (self.starts is None or self.starts <= now) and (
            self.ends is None or now < self.ends
        )


def normalize_code(code):
    return (code or "").strip().upper()


class VoucherRedemption(models.Model):
    """One order's use of a code. Deleted (the use given back) when the order is cancelled,
    expires or its payment fails."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="voucher_redemption"
    )
    # Lower-case email: "one use per customer" means per address, for guests and accounts alike.
    customer = models.CharField(max_length=254)
    # The voucher's rule at the time, so the unique index below can hold it.
    once_per_customer = models.BooleanField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "customer"],
                condition=Q(once_per_customer=True),
                name="pricing_redemption_once_per_customer",
            ),
        ]

    def __str__(self):
        return f"{self.voucher} on {self.order}"
