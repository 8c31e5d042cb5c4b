"""The back-office dashboard: orders and revenue lately, orders by status, stock running low."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Sum
from django.shortcuts import render
from django.utils import timezone

from catalog.models import ProductVariant
from orders.models import Order, OrderStatus

PERIODS = (("Today", 0), ("Last 7 days", 7), ("Last 30 days", 30))


def _since(days):
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start_of_today - timedelta(days=days)


@permission_required("orders.view_order", raise_exception=True)
def dashboard(request):
    periods = []
    for label, days in PERIODS:
        since = _since(days)
        placed = Order.objects.filter(created__gte=since).count()
        paid = (
            Order.objects.paid()
            .filter(paid_at__gte=since)
            .aggregate(count=Count("id"), revenue=Sum("total"))
        )
        periods.append({"label": label, "placed": placed, **paid})
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    by_status = [(status.label, counts.get(status.value, 0)) for status in OrderStatus]
    # Per variant: a shirt can run out in one size while the others are plentiful.
    low_stock = (
        ProductVariant.objects.filter(
            is_active=True, product__is_active=True, stock__lte=settings.LOW_STOCK_THRESHOLD
        )
        .select_related("product__category")
        .order_by("stock", "product__name", "position")[:50]
    )
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "periods": periods,
        "by_status": by_status,
        "low_stock": low_stock,
        "low_stock_threshold": settings.LOW_STOCK_THRESHOLD,
        "currency": settings.STORE_CURRENCY,
    }
    return render(request, "admin/orders/dashboard.html", context)
