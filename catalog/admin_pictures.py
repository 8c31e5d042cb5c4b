"""The product's pictures in the back office: an inline on the product's page (ProductAdmin).

Uploads go to the product's own add and change views, which are in UPLOAD_VIEWS: the same
413 limit (7.5 MB a request) and the same checks on each file (catalog.validators) as before.
"""

from functools import cached_property

from django.contrib import admin
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.forms.models import BaseInlineFormSet
from django.forms.utils import pretty_name
from django.utils.html import format_html
from django.utils.text import capfirst

from catalog.images import PictureSources
from catalog.models import ProductImage, ProductVariant


class ProductPartInline:
    """Options, variants and pictures are parts of the product: whoever may add or change
    products may edit them. (Catalog managers hold the product's permissions, not these
    models'.)"""

    def _may(self, request, action):
        return request.user.has_perm(f"catalog.{action}_product")

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view") or self._may(request, "change")

    def has_add_permission(self, request, obj):
        return self._may(request, "add" if obj is None else "change")

    def has_change_permission(self, request, obj=None):
        return self._may(request, "add" if obj is None else "change")

    def has_delete_permission(self, request, obj=None):
        return self._may(request, "add" if obj is None else "change")


class LabelledRowsFormSet(BaseInlineFormSet):
    """The product page's inlines are tables whose inputs the admin gives no label: each takes
    its column's heading as its name (aria-label), for screen readers and for finding it by the
    label a person sees ("SKU", "Picture")."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            # The admin's wrapper (the "+" beside a select) shares its attrs with the field
            # it was copied from: the form's own copy is the widget inside.
            widget = getattr(field.widget, "widget", field.widget)
            if not widget.is_hidden:
                widget.attrs.setdefault("aria-label", capfirst(field.label or pretty_name(name)))


class PictureFormSet(LabelledRowsFormSet):
    @cached_property
    def management_form(self):
        """A product form posted without the pictures' part (a script, a form from before the
        pictures) leaves the pictures as they are, instead of failing as a tampered form."""
        if self.is_bound and self.add_prefix(TOTAL_FORM_COUNT) not in self.data:
            data = {self.add_prefix(TOTAL_FORM_COUNT): 0, self.add_prefix(INITIAL_FORM_COUNT): 0}
            form = ManagementForm(
                data, auto_id=self.auto_id, prefix=self.prefix, renderer=self.renderer
            )
            form.full_clean()
            return form
        return super().management_form

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Only this product's variants (none while it is being added); a posted id of another
        # product's variant is refused as an invalid choice, and the model checks it again.
        if "variant" in form.fields:
            form.fields["variant"].queryset = (
                ProductVariant.objects.filter(product=self.instance)
                if self.instance.pk
                else ProductVariant.objects.none()
            )


class ProductImageInline(ProductPartInline, admin.TabularInline):
    """Pictures are part of the product, as its options and variants are: whoever may add or
    change products may edit them (Catalog managers hold the product's permissions)."""

    model = ProductImage
    formset = PictureFormSet
    fields = ("preview", "image", "alt", "variant", "position")
    readonly_fields = ("preview",)
    extra = 1
    verbose_name_plural = (
        "pictures (the first is on the product's card; each at most 5 MB, and at most 7.5 MB "
        "in one save: add large pictures one at a time)"
    )

    @admin.display(description="")
    def preview(self, obj):
        if not obj.pk or not obj.image:
            return ""
        return format_html(
            '<img src="{}" alt="" class="admin-thumb" width="96">', PictureSources.of(obj).src
        )
