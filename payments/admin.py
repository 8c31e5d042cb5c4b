"""Payments in the back office: each order's payment attempts, refunds, and provider events."""

from django.contrib import admin, messages

from orders.admin import OrderAdmin
from orders.exceptions import OrderError
from payments.models import Payment, Refund, RefundState, WebhookEvent
from payments.services import order_refund


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = (
        "attempt",
        "provider",
        "session_id",
        "status",
        "amount",
        "currency",
        "refund_reason",
        "created",
        "updated",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    fields = (
        "amount",
        "currency",
        "state",
        "failure",
        "restock",
        "reason",
        "source",
        "requested_by",
        "provider_refund_id",
        "created",
        "updated",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Refund what is left (selected paid orders)", permissions=["change"])
def refund(modeladmin, request, queryset):
    for order in queryset.order_by("pk"):
        try:
            made = order_refund(order=order, actor=request.user)
        except OrderError as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
            continue
        made.refresh_from_db()  # the payment service was asked once the refund was committed
        if made.state == RefundState.SUCCEEDED:
            modeladmin.message_user(request, f"Order {order.number} is refunded.", messages.SUCCESS)
        elif made.state == RefundState.FAILED:
            modeladmin.message_user(
                request,
                f"The payment service refused the refund of order {order.number}: {made.failure}",
                messages.ERROR,
            )
        elif made.provider_refund_id:
            modeladmin.message_user(
                request,
                f"Refund of order {order.number} requested; it shows as refunded once the "
                "payment service confirms.",
                messages.SUCCESS,
            )
        else:
            modeladmin.message_user(
                request,
                f"The payment service could not be reached for the refund of order "
                f"{order.number}; reconcile_payments sends it again.",
                messages.WARNING,
            )


class OrderWithPaymentsAdmin(OrderAdmin):
    """Orders with their payment attempts and the refund action: registered by shop.admin."""

    inlines = [*OrderAdmin.inlines, PaymentInline, RefundInline]
    actions = [*OrderAdmin.actions, refund]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("received", "type", "event_id", "object_id", "processed", "outcome")
    list_filter = ("type",)
    search_fields = ("event_id", "object_id", "outcome")
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
