"""Back office for pricing: where the store delivers and for how much, tax rates, discount codes.

Every rule the database holds (one rest-of-the-world zone, one tax rate per place, one code per
spelling, a percentage up to 100) is also checked by the models' validation, so a form that
breaks one shows a message on the page instead of failing at the database. Two checks live
here as they are about editing: a country goes in one zone only, and a code's use limit cannot
go under its uses so far (whose count this page never writes back). Uses of a code
(VoucherRedemption) are written by checkout only and are read-only here.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django_countries.filters import CountryFilter

from pricing.models import ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherRedemption

# How many of a code's latest uses its change page lists; the rest are a click away.
RECENT_REDEMPTIONS = 20


def _order_link(order):
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number
    )


# Shipping zones and methods.


class ShippingZoneForm(forms.ModelForm):
    class Meta:
        model = ShippingZone
        fields = ("name", "countries", "rest_of_world")

    def clean_countries(self):
        # ShippingMethod.objects.for_country offers a country every zone listing it: listed in
        # two zones, a shopper would be shown both zones' methods side by side.
        countries = self.cleaned_data["countries"]
        wanted = {str(country) for country in countries}
        taken = {
            str(country): zone.name
            for zone in ShippingZone.objects.exclude(pk=self.instance.pk)
            for country in zone.countries
            if str(country) in wanted
        }
        if taken:
            raise forms.ValidationError(
                "Already in another zone: "
                + ", ".join(f"{code} ({zone})" for code, zone in sorted(taken.items()))
                + ". A country can be in one zone only."
            )
        return countries


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    fields = ("name", "price", "free_from", "delivery_estimate", "is_active")
    extra = 0


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    form = ShippingZoneForm
    list_display = ("name", "country_count", "rest_of_world", "method_count")
    list_filter = ("rest_of_world",)
    search_fields = ("name",)
    inlines = [ShippingMethodInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(method_count=Count("methods"))

    @admin.display(description="countries")
    def country_count(self, obj):
        return len(obj.countries)

    @admin.display(description="methods", ordering="method_count")
    def method_count(self, obj):
        return obj.method_count


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ("name", "zone", "price", "free_from", "delivery_estimate", "is_active")
    list_filter = ("is_active", "zone")
    list_select_related = ("zone",)
    search_fields = ("name", "zone__name")


# Tax rates.


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ("country", "region", "name", "rate", "shipping_rate_shown")
    list_filter = (("country", CountryFilter),)  # the countries with a rate, not all 250
    search_fields = ("country", "region", "name")

    @admin.display(description="shipping rate (%)", ordering="shipping_rate")
    def shipping_rate_shown(self, obj):
        if obj.shipping_rate is None:
            return f"{obj.rate} (as goods)"
        return obj.shipping_rate


# Discount codes and their uses.


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = (
            "code",
            "description",
            "kind",
            "value",
            "is_active",
            "starts",
            "ends",
            "usage_limit",
            "once_per_customer",
            "min_subtotal",
            "categories",
            "products",
        )

    def clean_usage_limit(self):
        # Saving a limit counts the uses so far into `used` (Voucher.save), which the database
        # keeps at or under the limit: without this, a lower limit would fail on save.
        limit = self.cleaned_data["usage_limit"]
        uses = self.instance.redemptions.count() if self.instance.pk else 0
        if limit is not None and limit < uses:
            raise forms.ValidationError(
                f"The code has been used {uses} times: the limit cannot be lower."
            )
        return limit


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherForm
    list_display = ("code", "kind", "value", "uses", "starts", "ends", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "description")
    autocomplete_fields = ("categories", "products")
    readonly_fields = ("uses_so_far", "created", "recent_redemptions")
    fieldsets = (
        (None, {"fields": ("code", "description", "kind", "value", "is_active")}),
        ("When and how often", {"fields": ("starts", "ends", "usage_limit", "once_per_customer")}),
        (
            "What it applies to",
            {
                "fields": ("min_subtotal", "categories", "products"),
                "description": "Leave categories and products empty for a code on everything.",
            },
        ),
        ("Uses", {"fields": ("uses_so_far", "created", "recent_redemptions")}),
    )

    def get_queryset(self, request):
        # The uses are the redemptions: `used` is counted only while the code has a limit.
        return super().get_queryset(request).annotate(times_used=Count("redemptions"))

    @admin.display(description="used / limit", ordering="times_used")
    def uses(self, obj):
        return f"{obj.times_used} / {'∞' if obj.usage_limit is None else obj.usage_limit}"

    @admin.display(description="uses so far")
    def uses_so_far(self, obj):
        return getattr(obj, "times_used", 0)

    @admin.display(description="latest uses")
    def recent_redemptions(self, obj):
        if obj.pk is None:
            return "-"
        redemptions = obj.redemptions.select_related("order")[:RECENT_REDEMPTIONS]
        if not redemptions:
            return "Not used yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (_order_link(r.order), r.customer, r.created.strftime("%Y-%m-%d %H:%M"))
                for r in redemptions
            ),
        )
        every = reverse("admin:pricing_voucherredemption_changelist")
        return format_html(
            "<table><thead><tr><th>Order</th><th>Customer</th><th>Date</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}?voucher__id__exact={}">Every use</a></p>',
            rows,
            every,
            obj.pk,
        )


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(admin.ModelAdmin):
    """Written by checkout (and deleted when an order gives its use back): a record here."""

    list_display = ("created", "voucher", "order_link", "customer", "once_per_customer")
    list_select_related = ("voucher", "order")
    search_fields = ("voucher__code", "customer", "=order__number")
    date_hierarchy = "created"
    fields = ("voucher", "order_link", "customer", "once_per_customer", "created")
    readonly_fields = fields

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return _order_link(obj.order)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
