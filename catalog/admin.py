"""Back office for Catalog managers: categories and products."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from catalog.cache import catalog_changed
from catalog.models import Category, Product
from catalog.services import MAX_STOCK, product_save


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "product_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj):
        return obj.product_count


class InStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "in":
            return queryset.filter(stock__gt=0)
        if self.value() == "out":
            return queryset.filter(stock=0)
        return queryset


PRODUCT_FIELDS = (
    "name",
    "slug",
    "sku",
    "category",
    "description",
    "price",
    "stock",
    "is_active",
    "image",
)


class ProductAdminForm(forms.ModelForm):
    # The stock the editor saw when the form was opened: their edit is applied as a difference
    # from it, so sales made while the form was open are kept (see product_save).
    stock_seen = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=MAX_STOCK
    )

    class Meta:
        model = Product
        fields = PRODUCT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["stock_seen"].initial = self.instance.stock

    def clean(self):
        cleaned_data = super().clean()
        # The admin hides a hidden field's error along with the field: say it where it shows.
        if self._errors.pop("stock_seen", None):
            self.add_error(
                None,
                "This form's record of the stock you started from is not valid: open the "
                "product again and repeat your change.",
            )
        return cleaned_data


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("thumbnail", "name", "sku", "category", "price", "stock", "is_active")
    list_display_links = ("thumbnail", "name")
    list_filter = ("category", "is_active", InStockFilter)
    list_select_related = ("category",)
    search_fields = ("name", "sku")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("image_preview", "created", "updated")
    fields = (*PRODUCT_FIELDS, "stock_seen", "image_preview", "created", "updated")
    actions = ("activate", "deactivate")
    list_per_page = 50

    @admin.display(description="")
    def thumbnail(self, obj):
        if not obj.image:
            return ""
        return format_html(
            '<img src="{}" alt="" class="admin-thumb" width="48" height="36">', obj.image.url
        )

    @admin.display(description="current image")
    def image_preview(self, obj):
        if not obj.image:
            return "No image: the store shows a placeholder."
        return format_html('<img src="{}" alt="" class="admin-preview" width="240">', obj.image.url)

    def save_model(self, request, obj, form, change):
        if not change:
            product_save(product=obj)
            return
        stock_seen = form.cleaned_data.get("stock_seen")
        if stock_seen is None:  # an old or hand-made form: the typed stock is taken as is
            stock_seen = form.initial["stock"]
        changed = [name for name in form.changed_data if name not in ("stock", "stock_seen")]
        if obj.stock != stock_seen:
            changed.append("stock")
        result = product_save(product=obj, changed_fields=changed, stock_seen=stock_seen)
        if result.stock_capped:
            self.message_user(
                request,
                f"Stock cannot go above {MAX_STOCK:,}: it was set to {MAX_STOCK:,}.",
                messages.WARNING,
            )
        if result.stock_adjusted_from is not None:
            self.message_user(
                request,
                f"Stock changed while you were editing; your change was applied to the current "
                f"stock: {obj.stock}.",
                messages.WARNING,
            )

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate(self, request, queryset):
        count = queryset.update(is_active=True)
        catalog_changed()
        self.message_user(request, f"{count} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate(self, request, queryset):
        count = queryset.update(is_active=False)
        catalog_changed()
        self.message_user(request, f"{count} product(s) deactivated.", messages.SUCCESS)
