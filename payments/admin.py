"""Payments in the back office: each order's payment attempts, refunds, and provider events."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path, reverse

from orders.admin import OrderAdmin
from orders.exceptions import OrderError
from orders.models import ReturnStatus
from orders.status import STATUSES, OrderStatus
from payments.admin_refund import refund_view
from payments.models import Payment, Refund, RefundState, WebhookEvent
from payments.services import order_refund, refund_left, refund_preview


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
    orders = list(queryset.order_by("pk"))
    if request.POST.get("confirmed") != "yes":
        # A page that states each order's amount first: nothing is sent from the dropdown.
        rows = []
        for order in orders:
            try:
                rows.append((order, refund_preview(order=order, amount=refund_left(order))))
            except OrderError as exc:
                rows.append((order, str(exc)))
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": "Refund what is left of these orders?",
            "rows": rows,
            "action": request.POST.get("action", "refund"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/payments/refund_bulk_confirm.html", context)
    for order in orders:
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
    """Orders with their payment attempts, refunds and the refund page: registered by
    shop.admin."""

    inlines = [*OrderAdmin.inlines, PaymentInline, RefundInline]
    actions = [*OrderAdmin.actions, refund]

    def get_urls(self):
        def view(request, pk):
            return refund_view(self, request, pk)

        refund_url = path(
            "<int:pk>/refund/", self.admin_site.admin_view(view), name="orders_order_refund"
        )
        return [refund_url, *super().get_urls()]

    def more_buttons(self, order):
        if not STATUSES[OrderStatus(order.status)].revenue:
            return []
        return [("Refund", reverse("admin:orders_order_refund", args=[order.pk]))]

    def return_more_buttons(self, request_):
        if request_.status != ReturnStatus.RECEIVED:
            return []
        url = reverse("admin:orders_order_refund", args=[request_.order_id])
        return [("Refund it", f"{url}?return={request_.pk}")]


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
