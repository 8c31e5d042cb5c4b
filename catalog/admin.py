"""Back office for Catalog managers: categories, and products with their options and variants.

A product's change page edits everything about it at once: its option types (each with its
values typed as a comma-separated list), and its variants, with one select per option type.
The forms are checked together before anything is written (see VariantFormSet.clean), so a
duplicate combination, a missing value or a value still in use is a form error, never a
database error; then ProductAdmin.save_related writes variants first and options second, and
catalog.services puts every variant's combination key and label in line.
"""

from collections import Counter
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from catalog.admin_import import product_csv_urls
from catalog.admin_pictures import LabelledRowsFormSet, ProductImageInline, ProductPartInline
from catalog.cache import catalog_changed
from catalog.models import Category, OptionType, Product, ProductVariant
from catalog.services import (
    LABEL_LENGTH,
    MAX_OPTION_TYPES,
    MAX_OPTION_VALUES,
    MAX_STOCK,
    MAX_VARIANTS,
    label_length,
    option_values_set,
    product_lock,
    product_prices_refresh,
    product_variants_generate,
    product_variants_sync,
    temporary_key,
    variant_save,
)
from catalog.templatetags.money import money


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
            return queryset.in_stock()
        if self.value() == "out":
            return queryset.exclude(pk__in=queryset.in_stock().values("pk"))
        return queryset


PRODUCT_FIELDS = ("name", "slug", "category", "description", "is_active")
VALUE_LENGTH = 50  # OptionValue.value
THUMBNAIL_WIDTH = 48  # the product list's pictures, in CSS pixels


# Option types: a name and its values as one comma-separated list.


class OptionTypeAdminForm(forms.ModelForm):
    values = forms.CharField(
        max_length=MAX_OPTION_VALUES * (VALUE_LENGTH + 2),
        help_text="In order, separated by commas: S, M, L. To rename a value and keep its "
        "variants, write old=new (M=Medium).",
        widget=forms.TextInput(attrs={"size": 50}),
    )

    class Meta:
        model = OptionType
        fields = ("name", "values", "position")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set by clean_values: [(id of a value kept, or None for a new one, its text)] in
        # order, and the values left out.
        self.value_plan = []
        self.values_removed = []
        if self.instance.pk:
            self.initial["values"] = ", ".join(v.value for v in self.instance.values.all())

    def clean_name(self):
        name = self.cleaned_data["name"]
        if ":" in name:  # labels read "Size: M", and the list filters take option=Size:M
            raise ValidationError("An option's name cannot hold a colon.")
        return name

    def clean_values(self):
        existing = list(self.instance.values.all()) if self.instance.pk else []
        exact = {value.value: value for value in existing}
        folded = {}
        for value in existing:
            folded.setdefault(value.value.casefold(), value)
        plan, errors, kept = [], [], set()
        for entry in (part.strip() for part in self.cleaned_data["values"].split(",")):
            if not entry:
                continue
            if "=" in entry:
                old, _, text = (part.strip() for part in entry.partition("="))
                value = exact.get(old) or folded.get(old.casefold())
                if not text or "=" in text:
                    errors.append(f"Write a rename as old=new (M=Medium), not “{entry}”.")
                    continue
                if value is None:
                    errors.append(f"There is no value “{old}” to rename.")
                    continue
            else:
                text = entry
                value = exact.get(entry) or folded.get(entry.casefold())
            if len(text) > VALUE_LENGTH:
                errors.append(f"“{text[:20]}…” is too long: at most {VALUE_LENGTH} characters.")
                continue
            if value is not None and value.pk in kept:
                errors.append(f"“{value.value}” is listed twice.")
                continue
            if value is not None:
                kept.add(value.pk)
            plan.append((value.pk if value else None, text))
        seen = set()
        for _, text in plan:
            if text.casefold() in seen:
                errors.append(f"“{text}” is listed twice.")
            seen.add(text.casefold())
        if not plan and not errors:
            errors.append("Give at least one value.")
        if len(plan) > MAX_OPTION_VALUES:
            errors.append(f"An option has at most {MAX_OPTION_VALUES} values.")
        if errors:
            raise ValidationError(errors)
        self.value_plan = plan
        self.values_removed = [value for value in existing if value.pk not in kept]
        return ", ".join(text for _, text in plan)


@dataclass
class OptionChanges:
    """What a valid option formset is about to do, as the variant formset checks it."""

    deleted_types: set = field(default_factory=set)  # ids
    removed: dict = field(default_factory=dict)  # value id: (option form, value)
    adding: bool = False


class LinkedFormSet(LabelledRowsFormSet):
    """A formset that the product's other formsets can find in `linked` (one dict per page)."""

    link_name = ""

    def __init__(self, *args, linked=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.linked = {} if linked is None else linked
        self.linked[self.link_name] = self

    def live_forms(self):
        """The forms that will be rows after saving: not deleted, not blank extra rows."""
        return [
            form
            for form in self.forms
            if hasattr(form, "cleaned_data")
            and not (self.can_delete and self._should_delete_form(form))
            and (form.instance.pk or form.has_changed())
        ]


class OptionTypeFormSet(LinkedFormSet):
    link_name = "options"

    def clean(self):
        super().clean()
        forms_ = [form for form in self.live_forms() if "name" in form.cleaned_data]
        if len(self.live_forms()) > MAX_OPTION_TYPES:
            raise ValidationError(f"A product has at most {MAX_OPTION_TYPES} options.")
        names = Counter(form.cleaned_data["name"].casefold() for form in forms_)
        for form in forms_:
            if names[form.cleaned_data["name"].casefold()] > 1:
                raise ValidationError(f"Two options are called {form.cleaned_data['name']}.")
        pairs = [(f.cleaned_data["name"], [text for _, text in f.value_plan]) for f in forms_]
        if label_length(pairs) > LABEL_LENGTH:
            raise ValidationError(
                f"A variant's label (“Size: M / Colour: Blue”) would be longer than "
                f"{LABEL_LENGTH} characters: shorten the option names or values."
            )

    def changes(self):
        changes = OptionChanges()
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                if form.instance.pk:
                    changes.deleted_types.add(form.instance.pk)
                continue
            if form.instance.pk is None and form.has_changed():
                changes.adding = True
            for value in form.values_removed:
                changes.removed[value.pk] = (form, value)
        return changes


class OptionTypeInline(ProductPartInline, admin.TabularInline):
    model = OptionType
    form = OptionTypeAdminForm
    formset = OptionTypeFormSet
    fields = ("name", "values", "position")
    extra = 0
    max_num = MAX_OPTION_TYPES
    verbose_name = "option"
    verbose_name_plural = "options (such as Size or Colour; variants take one value of each)"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")


# Variants: SKU, price, stock, and one select per option type of the product.


def option_field_name(option_type):
    return f"option_{option_type.pk}"


class OptionValueField(forms.ChoiceField):
    """A select of one option type's values; cleans to the OptionValue."""

    def __init__(self, option_type, **kwargs):
        self.values_by_id = {str(value.pk): value for value in option_type.values.all()}
        name = option_type.name
        super().__init__(
            label=name,
            choices=[("", "---------"), *((pk, v.value) for pk, v in self.values_by_id.items())],
            error_messages={
                "required": f"Choose a {name}.",
                "invalid_choice": f"Choose one of the {name} values listed.",
            },
            **kwargs,
        )

    def clean(self, value):
        return self.values_by_id[super().clean(value)]


class VariantAdminForm(forms.ModelForm):
    # The stock the editor saw when the form was opened: their edit is applied as a difference
    # from it, so sales made while the form was open are kept (see variant_save).
    stock_seen = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=MAX_STOCK
    )
    # The product's option types, one OptionValueField each: set on the form class that
    # VariantInline.get_formset makes for the product being edited.
    option_types = ()

    class Meta:
        model = ProductVariant
        fields = ("sku", "price", "stock", "is_active", "position")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["stock_seen"].initial = self.instance.stock
            picks = {o.option_type_id: o.value_id for o in self.instance.options.all()}
            for option_type in self.option_types:
                if option_type.pk in picks:
                    self.initial[option_field_name(option_type)] = str(picks[option_type.pk])

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

    def picks(self):
        """{option type id: the value chosen, or None}."""
        return {t.pk: self.cleaned_data.get(option_field_name(t)) for t in self.option_types}

    def options_changed(self):
        return self.instance.pk is None or any(
            option_field_name(t) in self.changed_data for t in self.option_types
        )


def _label(option_types, picks):
    return " / ".join(f"{t.name}: {picks[t.pk].value}" for t in option_types if t.pk in picks)


class VariantFormSet(LinkedFormSet):
    link_name = "variants"

    def clean(self):
        """Check the variants as they will be once everything on the page is saved: the
        option types deleted or added and the values removed on the same page included."""
        super().clean()
        option_types = self.form.option_types
        options = self.linked.get("options")
        changes = OptionChanges()
        if options is not None and options.is_valid():
            changes = options.changes()
        kept_types = [t for t in option_types if t.pk not in changes.deleted_types]
        errors = []
        rows = []  # (form, or None for a variant not on the page, sku, {type id: value})
        on_page = set()
        for form in self.forms:
            if form.instance.pk:
                on_page.add(form.instance.pk)
            if not hasattr(form, "cleaned_data"):
                continue
            if self.can_delete and self._should_delete_form(form):
                continue  # an ordered variant is refused by its form (hand_clean_DELETE)
            if form.instance.pk or form.has_changed():
                rows.append((form, form.cleaned_data.get("sku", ""), form.picks()))
        if self.instance.pk:  # variants added since the page was opened
            for variant in (
                ProductVariant.objects.filter(product=self.instance)
                .exclude(pk__in=on_page)
                .prefetch_related("options__value")
            ):
                picks = {o.option_type_id: o.value for o in variant.options.all()}
                rows.append((None, variant.sku, picks))

        users = {}  # value id: SKUs of the variants that would still use a removed value
        groups = {}  # combination once saved: rows
        for form, sku, picks in rows:
            picks = {t.pk: picks[t.pk] for t in kept_types if picks.get(t.pk) is not None}
            for option_type in kept_types:
                value = picks.get(option_type.pk)
                if value is not None and value.pk in changes.removed:
                    users.setdefault(value.pk, []).append(sku)
                    if form is not None:
                        form.add_error(
                            option_field_name(option_type),
                            f"{value.value} is being removed: choose another "
                            f"{option_type.name}, or keep {value.value}.",
                        )
            if len(picks) == len(kept_types):  # a missing value is its select's error
                groups.setdefault(frozenset(v.pk for v in picks.values()), []).append(
                    (form, sku, picks)
                )
        for value_id, skus in users.items():
            option_form, value = changes.removed[value_id]
            option_form.add_error(
                "values",
                f"{value.value} is used by {', '.join(skus)}: choose another value for "
                f"{'it' if len(skus) == 1 else 'them'} in the variants below, or keep "
                f"{value.value}.",
            )
            errors.append(f"{value.value} cannot be removed while variants use it.")
        for group in groups.values():
            if len(group) > 1:
                errors += self._duplicates(group, kept_types, changes, option_types)

        if not rows:
            errors.append(
                "A product needs at least one variant. To stop selling it, untick the "
                "product's Active box instead."
            )
        adding = any(form is not None and form.instance.pk is None for form, _, _ in rows)
        if adding and len(rows) > MAX_VARIANTS:  # one imported with more can still be edited
            errors.append(f"A product has at most {MAX_VARIANTS} variants.")
        if errors:
            raise ValidationError(errors)

    def _duplicates(self, group, kept_types, changes, option_types):
        """Errors for rows that would share one combination, on their forms; returned as
        non-form errors only when none of them is on the page."""
        gone = [t.name for t in option_types if t.pk in changes.deleted_types]
        unshown = []
        for form, sku, picks in group:
            others = ", ".join(other for _, other, _ in group if other != sku)
            if kept_types:
                message = (
                    f"Same options as {others} ({_label(kept_types, picks)})"
                    + (f" once {', '.join(gone)} is removed" if gone else "")
                    + ": each variant needs its own combination of values."
                )
            elif changes.adding:
                message = "Save the new options first, then give each variant its values."
            else:
                message = (
                    "A product without options has one variant: add an option (such as Size) "
                    "and save, then add variants."
                )
            if form is None:
                unshown.append(message)
            else:
                form.add_error(None, message)
        return unshown[:1] if len(unshown) == len(group) else []


class VariantInline(ProductPartInline, admin.TabularInline):
    model = ProductVariant
    form = VariantAdminForm
    formset = VariantFormSet
    fields = ("sku", "price", "stock", "stock_seen", "is_active", "position")
    extra = 0
    min_num = 1
    max_num = MAX_VARIANTS

    def get_queryset(self, request):
        # Each row shows its variant as "Product (label)": the product with it, not per row.
        return super().get_queryset(request).select_related("product").prefetch_related("options")

    def _option_types(self, request, obj):
        # Read once per request, so the columns and the form always agree.
        if obj is None or obj.pk is None:
            return []
        cache = request.__dict__.setdefault("_catalog_option_types", {})
        if obj.pk not in cache:
            cache[obj.pk] = list(obj.option_types.prefetch_related("values"))
        return cache[obj.pk]

    def get_fields(self, request, obj=None):
        names = [option_field_name(t) for t in self._option_types(request, obj)]
        return ("sku", *names, "price", "stock", "stock_seen", "is_active", "position")

    def get_formset(self, request, obj=None, **kwargs):
        option_types = self._option_types(request, obj)
        attrs = {option_field_name(t): OptionValueField(t) for t in option_types}
        kwargs["form"] = type(
            "VariantAdminForm", (self.form,), {"option_types": option_types, **attrs}
        )
        formset = super().get_formset(request, obj, **kwargs)

        class VariantForm(formset.form):
            def hand_clean_DELETE(self):
                # The admin refuses to delete what an order line protects: say what to do.
                try:
                    super().hand_clean_DELETE()
                except ValidationError as error:
                    raise ValidationError(
                        f"{self.instance.sku} has been ordered, so it stays on record: untick "
                        "its Active box to stop selling it instead.",
                        code=error.code,
                    ) from error

        formset.form = VariantForm
        return formset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "name",
        "category",
        "price_range",
        "variant_count",
        "total_stock",
        "is_active",
    )
    list_display_links = ("thumbnail", "name")
    list_filter = ("is_active", "category", InStockFilter)
    list_select_related = ("category",)
    search_fields = ("name", "variants__sku")
    search_help_text = "A product's name, or the SKU of any of its variants."
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created", "updated")
    fields = (*PRODUCT_FIELDS, "created", "updated")
    inlines = [OptionTypeInline, VariantInline, ProductImageInline]
    actions = ("activate", "deactivate", "generate_variants")
    list_per_page = 50

    def get_queryset(self, request):
        # Subqueries rather than a join with GROUP BY, so that the actions' update() and
        # delete() work on this queryset as on any other.
        variants = ProductVariant.objects.filter(product=OuterRef("pk")).order_by()
        per_product = variants.values("product")
        return (
            super()
            .get_queryset(request)
            .with_cover_picture()  # the list's thumbnails, in its one query
            .annotate(
                variant_count=Coalesce(
                    Subquery(per_product.annotate(n=Count("pk")).values("n")),
                    0,
                    output_field=IntegerField(),
                ),
                total_stock=Coalesce(
                    Subquery(
                        per_product.filter(is_active=True).annotate(n=Sum("stock")).values("n")
                    ),
                    0,
                    output_field=IntegerField(),
                ),
            )
        )

    @admin.display(description="")
    def thumbnail(self, obj):
        """The first picture's smallest copy (the pictures themselves are on the product's
        page, in the pictures' inline)."""
        picture = obj.cover_picture
        if picture is None:
            return ""
        height = max(1, round(THUMBNAIL_WIDTH * picture.height / picture.width))
        return format_html(
            '<img src="{}" alt="" class="admin-thumb" width="{}" height="{}">',
            picture.src,
            THUMBNAIL_WIDTH,
            height,
        )

    @admin.display(description="price", ordering="price_min")
    def price_range(self, obj):
        if obj.price_min is None:
            return "no active variant"
        if obj.price_varies:
            return f"{money(obj.price_min)} – {money(obj.price_max)}"
        return money(obj.price_min)

    @admin.display(description="variants", ordering="variant_count")
    def variant_count(self, obj):
        return obj.variant_count

    @admin.display(description="stock (active variants)", ordering="total_stock")
    def total_stock(self, obj):
        return obj.total_stock

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST" or object_id is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            product_id = Product._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic():
            # Two people saving one product: the second waits here for the first to commit,
            # and its forms are then checked against what the first saved.
            product_lock(product_id=product_id)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, (OptionTypeInline, VariantInline)):
            # One dict per page: the variants' check reads what the options are about to do.
            kwargs["linked"] = request.__dict__.setdefault("_catalog_product_formsets", {})
        return kwargs

    def save_related(self, request, form, formsets, change):
        """Variants first (their values as chosen, with the option types as they were when
        the page was opened), then option types and values, then every variant in line with
        them: new options give each variant their first value, labels follow renames."""
        form.save_m2m()
        product = form.instance
        by_model = {formset.model: formset for formset in formsets}
        # The other inlines (pictures) first: one tied to a variant deleted below is let go
        # by that deletion, never left pointing at it.
        for formset in formsets:
            if formset.model not in (ProductVariant, OptionType):
                self.save_formset(request, form, formset, change=change)
        chosen = {}
        if ProductVariant in by_model:
            chosen = self._save_variants(request, by_model[ProductVariant])
        product_variants_sync(product=product, chosen=chosen)
        if OptionType in by_model:
            self._save_option_types(by_model[OptionType])
            product_variants_sync(product=product)
        product_prices_refresh(product=product)
        # The catalogue version moves on with the product's own save (save_model, see
        # catalog.receivers), once all of this commits.

    def _save_option_types(self, formset):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for option_form in formset.deleted_forms:  # first, so a name can be taken over
            if option_form.instance.pk:
                option_form.instance.delete()
                formset.deleted_objects.append(option_form.instance)
        for option_form in formset.forms:
            if option_form in formset.deleted_forms or not option_form.has_changed():
                continue
            option_type = option_form.save(commit=False)
            option_type.product = formset.instance
            added = option_type.pk is None
            option_type.save()
            option_values_set(option_type=option_type, values=option_form.value_plan)
            if added:
                formset.new_objects.append(option_type)
            else:
                formset.changed_objects.append((option_type, option_form.changed_data))

    def _save_variants(self, request, formset):
        """Save the variants' own fields; return {variant id: [values chosen]}."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for variant_form in formset.deleted_forms:
            if variant_form.instance.pk:
                variant_form.instance.delete()
                formset.deleted_objects.append(variant_form.instance)
        chosen = {}
        for variant_form in formset.forms:
            if variant_form in formset.deleted_forms or not variant_form.has_changed():
                continue
            adding = variant_form.instance.pk is None
            options_changed = variant_form.options_changed()
            variant = self._save_variant(request, variant_form, formset.instance)
            if options_changed:
                chosen[variant.pk] = [v for v in variant_form.picks().values() if v is not None]
            if adding:
                formset.new_objects.append(variant)
            else:
                formset.changed_objects.append((variant, variant_form.changed_data))
        return chosen

    def _save_variant(self, request, variant_form, product):
        adding = variant_form.instance.pk is None
        variant = variant_form.save(commit=False)
        if adding:
            variant.product = product
            variant.combination = temporary_key()  # its options are written next
            variant_save(variant=variant)
            return variant
        stock_seen = variant_form.cleaned_data.get("stock_seen")
        if stock_seen is None:  # an old or hand-made form: the typed stock is taken as is
            stock_seen = variant_form.initial["stock"]
        own_fields = set(VariantAdminForm._meta.fields) - {"stock"}
        changed = [name for name in variant_form.changed_data if name in own_fields]
        if variant.stock != stock_seen:
            changed.append("stock")
        result = variant_save(variant=variant, changed_fields=changed, stock_seen=stock_seen)
        if result.stock_capped:
            self.message_user(
                request,
                f"Stock of {variant.sku} cannot go above {MAX_STOCK:,}: it was set to "
                f"{MAX_STOCK:,}.",
                messages.WARNING,
            )
        if result.stock_adjusted_from is not None:
            self.message_user(
                request,
                f"Stock of {variant.sku} changed while you were editing; your change was "
                f"applied to the current stock: {variant.stock}.",
                messages.WARNING,
            )
        return variant

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

    @admin.action(
        description="Generate a variant for every combination of option values",
        permissions=["change"],
    )
    def generate_variants(self, request, queryset):
        self._generate(request, list(queryset))

    def _generate(self, request, products):
        made = {}
        simple, complete = [], []
        for product in products:
            try:
                with transaction.atomic():
                    count = product_variants_generate(product=product)
            except ValidationError as error:
                self.message_user(
                    request,
                    f"{product.name}: nothing made. {' '.join(error.messages)}",
                    messages.ERROR,
                )
                continue
            if count:
                made[product] = count
                self.log_change(request, product, f"Made {count} variants (every combination).")
            elif product.option_types.exists():
                complete.append(product.name)
            else:
                simple.append(product.name)
        if made:
            catalog_changed()
            details = ", ".join(f"{product.name}: {count}" for product, count in made.items())
            self.message_user(
                request,
                f"{sum(made.values())} variant(s) made ({details}), with stock 0 and the "
                "lowest price: check their prices and stock.",
                messages.SUCCESS,
            )
        if complete:
            self.message_user(
                request,
                f"Already a variant for every combination: {', '.join(complete)}.",
                messages.INFO,
            )
        if simple:
            self.message_user(
                request,
                f"No options, left alone: {', '.join(simple)}.",
                messages.INFO,
            )

    def get_urls(self):
        generate = self.admin_site.admin_view(self.generate_variants_view)
        return [
            *product_csv_urls(self),  # CSV import and export (catalog.admin_import)
            path(
                "<path:object_id>/generate-variants/",
                generate,
                name="catalog_product_generate_variants",
            ),
            *super().get_urls(),
        ]

    def generate_variants_view(self, request, object_id):
        """The change page's "Generate every combination" button (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        product = self.get_object(request, unquote(object_id))
        if product is None:
            raise Http404("No such product.")
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        self._generate(request, [product])
        return HttpResponseRedirect(reverse("admin:catalog_product_change", args=[product.pk]))
