"""Back office for Order managers: orders, their history, status changes, customers."""

from django.contrib import admin, messages
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import path

from accounts.admin import UserAdmin
from orders import admin_views
from orders.exceptions import OrderError
from orders.models import PAID_STATUSES, Order, OrderEvent, OrderItem, OrderStatus
from orders.services import order_cancel, order_transition


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = (
        "product_name",
        "variant_label",
        "product_sku",
        "unit_price",
        "quantity",
        "line_total",
        "discount",
        "tax_rate",
        "tax",
        "variant",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        # The variant column shows the variant by name, which is its product's: read with it.
        return super().get_queryset(request).select_related("variant__product")

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    verbose_name_plural = "history"
    fields = ("created", "kind", "from_status", "to_status", "source", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(to, description):
    def action(modeladmin, request, queryset):
        done, refused = [], []
        for order in queryset.order_by("pk"):
            try:
                if to == OrderStatus.CANCELLED:
                    order_cancel(order=order, actor=request.user, source="back office")
                else:
                    order_transition(order=order, to=to, actor=request.user, source="back office")
            except OrderError as exc:
                refused.append(str(exc))
            else:
                done.append(order.number)
        if done:
            modeladmin.message_user(request, f"{description}: {', '.join(done)}.", messages.SUCCESS)
        for reason in refused:
            modeladmin.message_user(request, reason, messages.ERROR)

    action.__name__ = f"mark_{to}"
    return admin.action(description=f"{description} (selected orders)", permissions=["change"])(
        action
    )


class OrderAdmin(admin.ModelAdmin):
    """Registered by shop.admin, with the payments app's additions (payments.admin)."""

    list_display = ("number", "email", "status", "total", "currency", "created", "paid_at")
    list_filter = (
        "status",
        ("created", admin.DateFieldListFilter),
        ("user", admin.EmptyFieldListFilter),
        "shipping_method_name",
    )
    search_fields = ("=number", "email", "user__email", "full_name", "=voucher_code")
    date_hierarchy = "created"
    list_select_related = ("user",)
    inlines = [OrderItemInline, OrderEventInline]
    actions = [
        _transition_action(OrderStatus.SHIPPED, "Marked shipped"),
        _transition_action(OrderStatus.DELIVERED, "Marked delivered"),
        _transition_action(OrderStatus.CANCELLED, "Cancelled"),
    ]
    fieldsets = (
        (None, {"fields": ("number", "status", "user", "email", "created", "paid_at")}),
        (
            "Amounts",
            {
                "fields": (
                    "currency",
                    "subtotal",
                    "voucher_code",
                    "discount",
                    "shipping_method_name",
                    "shipping",
                    "prices_include_tax",
                    "tax_name",
                    "tax_rate",
                    "shipping_tax_rate",
                    "tax",
                    "shipping_tax",
                    "total",
                )
            },
        ),
        ("Note from the customer", {"fields": ("note",)}),
        ("Shipping", {"fields": Order.SHIPPING_FIELDS}),
        (
            "Delivery",
            {
                "fields": (
                    "invoice_number",
                    "shipped_at",
                    "carrier",
                    "tracking_number",
                    "tracking_url",
                    "delivered_at",
                )
            },
        ),
    )

    change_form_template = "admin/orders/order/change_form.html"

    def get_urls(self):
        def view(function):
            def wrapped(request, *args, **kwargs):
                return function(self, request, *args, **kwargs)

            return self.admin_site.admin_view(wrapped)

        return [
            path("<int:pk>/move/<str:to>/", view(admin_views.move_view), name="orders_order_move"),
            path("<int:pk>/note/", view(admin_views.note_view), name="orders_order_note"),
            path(
                "<int:pk>/return/<int:return_pk>/<str:step>/",
                view(admin_views.return_view),
                name="orders_order_return",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = {}
        if order is not None:
            may_change = self.has_change_permission(request, order)
            extra = {
                "order_buttons": (
                    [*admin_views.order_buttons(order), *self.more_buttons(order)]
                    if may_change
                    else []
                ),
                "may_change": may_change,
                "returns": [
                    (
                        request_,
                        [*admin_views.return_buttons(request_), *self.return_more_buttons(request_)]
                        if may_change
                        else [],
                    )
                    for request_ in order.returns.prefetch_related("lines__item")
                ],
            }
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    def more_buttons(self, order):
        """(label, url) of the order page's buttons other apps add (payments: Refund)."""
        return []

    def return_more_buttons(self, request_):
        """(label, url) of a return's steps other apps add (payments: refund it)."""
        return []

    def get_readonly_fields(self, request, obj=None):
        # Orders are records: what was sold, for how much, sent where. Status changes go
        # through the order page's buttons, which apply the status rules.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CustomerAdmin(UserAdmin):
    """Customers with what they have ordered: for Order managers answering questions.

    Here because accounts may not import orders; shop.admin registers it for User.
    """

    list_display = (*UserAdmin.list_display, "order_count", "total_spent")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                order_count=Count("orders", distinct=True),
                total_spent=Coalesce(
                    Sum("orders__total", filter=Q(orders__status__in=PAID_STATUSES)),
                    Value(0),
                    output_field=DecimalField(max_digits=12, decimal_places=2),
                ),
            )
        )

    @admin.display(description="orders", ordering="order_count")
    def order_count(self, obj):
        return obj.order_count

    @admin.display(description="total spent", ordering="total_spent")
    def total_spent(self, obj):
        return obj.total_spent
