"""The back-office dashboard: orders and revenue lately, orders by status, stock running low."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from catalog.models import ProductVariant
from orders.models import Order, OrderStatus
from orders.reports import (
    CHART_HEIGHT,
    CHART_WIDTH,
    DEFAULT_PERIOD,
    ZERO,
    chart_bars,
    refunds_since,
    sales_report,
)
from orders.reports import PERIODS as PERIODS_DAYS

PERIODS = (("Today", 0), ("Last 7 days", 7), ("Last 30 days", 30))


def _since(days):
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start_of_today - timedelta(days=days)


def dashboard(request):
    """Orders and revenue for order managers, low stock for them and for catalog managers."""
    user = request.user
    sees_orders = user.has_perm("orders.view_order")
    sees_stock = sees_orders or user.has_perm("catalog.view_product")
    if not sees_stock:
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "sees_orders": sees_orders,
        "low_stock_threshold": settings.LOW_STOCK_THRESHOLD,
        "currency": settings.STORE_CURRENCY,
    }
    if sees_orders:
        periods = []
        for label, days in PERIODS:
            since = _since(days)
            placed = Order.objects.filter(created__gte=since).count()
            # Every order paid in the period (refunded since or not), less what was refunded
            # in it: revenue net of refunds, as the sales report counts it.
            paid = Order.objects.filter(paid_at__gte=since).aggregate(
                count=Count("id"), sales=Sum("total", default=ZERO)
            )
            refunded = refunds_since(since)
            periods.append(
                {
                    "label": label,
                    "placed": placed,
                    **paid,
                    "refunded": refunded,
                    "revenue": paid["sales"] - refunded,
                }
            )
        counts = dict(Order.objects.values_list("status").annotate(n=Count("id")))
        context["periods"] = periods
        context["by_status"] = [
            (status.label, counts.get(status.value, 0)) for status in OrderStatus
        ]
    # Per variant: a shirt can run out in one size while the others are plentiful.
    context["low_stock"] = (
        ProductVariant.objects.filter(
            is_active=True, product__is_active=True, stock__lte=settings.LOW_STOCK_THRESHOLD
        )
        .select_related("product__category")
        .order_by("stock", "product__name", "position")[:50]
    )
    return render(request, "admin/orders/dashboard.html", context)


def sales_report_view(request):
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", DEFAULT_PERIOD))
    except ValueError:
        days = 0
    if days not in PERIODS_DAYS:
        return HttpResponseBadRequest(
            f"Choose a period of {', '.join(map(str, PERIODS_DAYS))} days."
        )
    report = sales_report(days)
    # Past three months, a bar per week keeps the chart readable.
    rows = report.by_day if days <= 90 else report.by_week
    context = {
        **admin.site.each_context(request),
        "title": "Sales report",
        "report": report,
        "periods": PERIODS_DAYS,
        "bars": chart_bars(rows),
        "bar_unit": "day" if days <= 90 else "week",
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
        "currency": settings.STORE_CURRENCY,
    }
    return render(request, "admin/orders/sales_report.html", context)
