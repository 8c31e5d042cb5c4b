"""Carts in the back office, read-only: for answering a shopper's question, not for editing."""

from django.contrib import admin

from cart.models import Cart, CartItem


class CartItemInline(admin.TabularInline):
    model = CartItem
    fields = ("product", "quantity", "added")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "updated", "created")
    list_filter = (("user", admin.EmptyFieldListFilter),)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "session_key", "created", "updated")
    inlines = [CartItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
