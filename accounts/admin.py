"""Customers, their address books and staff in the back office."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.template.defaultfilters import pluralize

from accounts.forms import StaffUserChangeForm, StaffUserCreationForm
from accounts.models import Address
from accounts.services import (
    ADDRESS_BOOK_LIMIT,
    ADDRESS_FIELDS,
    AddressBookFull,
    address_add,
    address_delete,
    address_set_default,
)


class AddressInline(admin.StackedInline):
    """The customer's address book. Which address is the default changes only through the
    "Make default" action of Addresses, so the one-default rule is kept in one place."""

    model = Address
    extra = 0
    max_num = ADDRESS_BOOK_LIMIT
    fields = (*ADDRESS_FIELDS, "is_default", "created")
    readonly_fields = ("is_default", "created")

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_max=True, **kwargs)


class UserAdmin(DjangoUserAdmin):
    """Registered by shop.admin with the orders app's columns added (orders.admin)."""

    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    inlines = [AddressInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(self, request, obj):
        # Addresses come once the customer exists: the add form stays Django's own.
        return self.inlines if obj is not None else []

    def save_formset(self, request, form, formset, change):
        if formset.model is not Address:
            return super().save_formset(request, form, formset, change)
        # Deletions and additions go through the services, which keep one default address.
        addresses = formset.save(commit=False)
        for address in formset.deleted_objects:
            address_delete(address=address)
        for address in addresses:
            if address.pk:
                # Only the fields the form has: the default may have moved since the page opened.
                address.save(update_fields=ADDRESS_FIELDS)
                continue
            data = {field: getattr(address, field) for field in ADDRESS_FIELDS}
            try:
                address_add(user=form.instance, data=data)
            except AddressBookFull as exc:
                self.message_user(request, str(exc), messages.ERROR)
        return None


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "city", "postal_code", "country", "is_default", "created")
    list_filter = ("is_default", "country")
    search_fields = (
        "user__email",
        "label",
        "full_name",
        "address_line1",
        "city",
        "postal_code",
        "phone",
    )
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    fields = ("user", *ADDRESS_FIELDS, "is_default", "created")
    readonly_fields = ("user", "is_default", "created")
    actions = ["make_default"]

    def has_add_permission(self, request):
        # Added from the customer's page, where the address book's limit is checked.
        return False

    @admin.action(
        description="Make the selected address its customer's default", permissions=["change"]
    )
    def make_default(self, request, queryset):
        chosen = {}
        for address in queryset.select_related("user").order_by("created", "id"):
            chosen[address.user_id] = address  # one per customer: the newest selected
        for address in chosen.values():
            address_set_default(address=address)
        count = len(chosen)
        self.message_user(
            request,
            f"{count} customer{pluralize(count)} got a new default address.",
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        # Only the fields the form has: the default may have moved since the page opened.
        obj.save(update_fields=ADDRESS_FIELDS)

    def delete_model(self, request, obj):
        address_delete(address=obj)

    def delete_queryset(self, request, queryset):
        for address in queryset:
            address_delete(address=address)
