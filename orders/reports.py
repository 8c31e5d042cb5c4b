"""The sales report: orders, revenue, refunds and average order value per day and per week,
the best-selling products, and a bar chart of revenue drawn on the server as SVG."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import PAID_STATUSES, Order, OrderItem
from shop.money import round_money

PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30
TOP_PRODUCTS = 10
ZERO = Decimal("0")


@dataclass
class Row:
    """One day or one week (starting on its Monday)."""

    start: date
    placed: int = 0
    paid: int = 0
    sales: Decimal = ZERO  # what paid orders came to, tax and shipping included
    tax: Decimal = ZERO
    refunds: int = 0
    refunded: Decimal = ZERO

    @property
    def revenue(self) -> Decimal:
        """Sales net of refunds: what the shop kept."""
        return self.sales - self.refunded

    @property
    def average_order(self) -> Decimal | None:
        return round_money(self.sales / self.paid, settings.STORE_CURRENCY) if self.paid else None

    def add(self, other: "Row") -> None:
        for name in ("placed", "paid", "sales", "tax", "refunds", "refunded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Report:
    days: int
    first: date
    last: date
    by_day: list[Row]
    by_week: list[Row]
    total: Row
    top_products: list[dict] = field(default_factory=list)


def _by_day(queryset, moment, **sums):
    zone = timezone.get_current_timezone()
    return {
        row.pop("day"): row
        for row in queryset.annotate(day=TruncDate(moment, tzinfo=zone))
        .values("day")
        .annotate(**sums)
        .order_by("day")
    }


def _refunds(since):
    """The refunds that went through since `since`, by when they did (their last change: a
    refund that succeeded does not change again). Refunds are the payments app's records; read
    through the app registry, as orders does not import payments."""
    Refund = apps.get_model("payments", "Refund")
    return Refund.objects.filter(state="succeeded", updated__gte=since)


def _refunds_by_day(since):
    return _by_day(_refunds(since), "updated", count=Count("id"), amount=Sum("amount"))


def refunds_since(since) -> Decimal:
    """What was refunded since `since`."""
    return _refunds(since).aggregate(amount=Sum("amount", default=ZERO))["amount"]


def sales_report(days: int = DEFAULT_PERIOD, today: date | None = None) -> Report:
    """The last `days` days up to `today` (the store's time zone), every day listed."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    placed = _by_day(Order.objects.filter(created__gte=since), "created", count=Count("id"))
    paid = _by_day(
        Order.objects.filter(paid_at__gte=since),
        "paid_at",
        count=Count("id"),
        sales=Sum("total"),
        tax=Sum("tax"),
    )
    refunds = _refunds_by_day(since)

    by_day = []
    for n in range(days):
        day = first + timedelta(days=n)
        row = Row(start=day, placed=placed.get(day, {}).get("count", 0))
        if day in paid:
            row.paid, row.sales, row.tax = (paid[day][k] for k in ("count", "sales", "tax"))
        if day in refunds:
            row.refunds, row.refunded = refunds[day]["count"], refunds[day]["amount"]
        by_day.append(row)

    weeks = {}
    for row in by_day:
        monday = row.start - timedelta(days=row.start.weekday())
        weeks.setdefault(monday, Row(start=monday)).add(row)
    total = Row(start=first)
    for row in by_day:
        total.add(row)

    top = (
        OrderItem.objects.filter(order__paid_at__gte=since, order__status__in=PAID_STATUSES)
        .values("product_name", "variant_label", "product_sku")
        .annotate(quantity=Sum("quantity"), sales=Sum(F("line_total") - F("discount")))
        .order_by("-sales", "-quantity", "product_sku")[:TOP_PRODUCTS]
    )
    return Report(
        days=days,
        first=first,
        last=today,
        by_day=by_day,
        by_week=list(weeks.values()),
        total=total,
        top_products=list(top),
    )


# The chart: one bar per day (or per week past 90 days), revenue net of refunds.

CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 720, 240, 16, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: Decimal


def chart_bars(rows: list[Row]) -> list[Bar]:
    """Bars scaled to the chart's height; a day with refunds over its sales draws no bar."""
    if not rows:
        return []
    peak = max((row.revenue for row in rows), default=ZERO)
    room = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    step = CHART_WIDTH / len(rows)
    bars = []
    for n, row in enumerate(rows):
        value = max(row.revenue, ZERO)
        height = float(value / peak) * room if peak > 0 else 0.0
        bars.append(
            Bar(
                x=round(n * step + step * 0.1, 2),
                y=round(CHART_TOP + room - height, 2),
                width=round(step * 0.8, 2),
                height=round(height, 2),
                label=row.start.isoformat(),
                value=row.revenue,
            )
        )
    return bars
