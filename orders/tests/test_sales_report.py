"""The sales report: per day and per week, net of refunds, best sellers, and its SVG chart."""

from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StaffFactory, catalog_manager, order_manager
from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from orders.reports import chart_bars, sales_report
from orders.tests.factories import place_order
from payments.tests.factories import pay, refund

pytestmark = pytest.mark.django_db

S = OrderStatus
REPORT = reverse("orders:sales_report")


def paid_order(price, quantity=1, days_ago=0, name=None):
    product = ProductFactory(price=Decimal(price), stock=50, **({"name": name} if name else {}))
    order = pay(place_order([(product, quantity)]))
    if days_ago:
        moment = timezone.now() - timedelta(days=days_ago)
        Order.objects.filter(pk=order.pk).update(created=moment, paid_at=moment)
    return Order.objects.get(pk=order.pk)


def test_each_day_counts_what_was_placed_paid_and_refunded_that_day():
    today = timezone.localdate()
    a = paid_order("10.00", days_ago=2)  # 10 + 5 shipping
    b = paid_order("30.00", days_ago=2)  # 30 + 5
    refunded = paid_order("20.00", days_ago=1)
    refund(refunded, amount=refunded.total)
    place_order([(ProductFactory(stock=5), 1)])  # placed today, never paid

    report = sales_report(7)

    days = {row.start: row for row in report.by_day}
    assert len(report.by_day) == 7
    assert report.first == today - timedelta(days=6)
    two_days_ago = days[today - timedelta(days=2)]
    assert (two_days_ago.placed, two_days_ago.paid) == (2, 2)
    assert two_days_ago.sales == a.total + b.total
    assert two_days_ago.average_order == (a.total + b.total) / 2
    yesterday = days[today - timedelta(days=1)]
    assert (yesterday.paid, yesterday.sales, yesterday.refunds) == (1, refunded.total, 0)
    assert (days[today].placed, days[today].refunds, days[today].refunded) == (
        1,
        1,
        refunded.total,
    )
    assert days[today].revenue == -refunded.total
    assert report.total.revenue == a.total + b.total
    assert report.total.paid == 3
    assert sum(week.sales for week in report.by_week) == report.total.sales


def test_weeks_start_on_monday_and_add_up_their_days():
    report = sales_report(30)

    assert all(week.start.weekday() == 0 for week in report.by_week[1:])
    assert report.by_week[0].start <= report.first
    assert sum(week.placed for week in report.by_week) == report.total.placed


def test_orders_outside_the_period_are_left_out():
    paid_order("10.00", days_ago=10)

    assert sales_report(7).total.paid == 0
    assert sales_report(30).total.paid == 1


def test_best_sellers_rank_by_sales_without_refunded_orders():
    paid_order("5.00", quantity=4, name="Mug")
    paid_order("50.00", name="Lamp")
    gone = paid_order("99.00", name="Returned chair")
    refund(gone, amount=gone.total)

    top = sales_report(7).top_products

    assert [(p["product_name"], p["quantity"], p["sales"]) for p in top] == [
        ("Lamp", 1, Decimal("50.00")),
        ("Mug", 4, Decimal("20.00")),
    ]


def test_the_chart_scales_bars_to_the_best_day():
    paid_order("10.00", days_ago=1)
    paid_order("40.00")

    bars = chart_bars(sales_report(7).by_day)

    assert len(bars) == 7
    best, other = bars[-1], bars[-2]
    # 45.00 (40.00 and 5.00 shipping) against 15.00: three times as tall, the best one full.
    assert best.height == pytest.approx(3 * other.height, rel=0.01)
    assert best.y == pytest.approx(16)
    assert all(bar.height == 0 for bar in bars[:-2])
    assert chart_bars([]) == []


def test_an_order_manager_reads_the_report_with_its_chart(client):
    paid_order("25.00", name="Lantern <b>")
    client.force_login(order_manager())

    response = client.get(REPORT, {"days": 7})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Lantern &lt;b&gt;" in html
    start = html.index("<svg", html.index('class="sales-chart"'))
    svg = html[start : html.index("</svg>", start) + 6]
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- our own page's markup
    assert len(tree.findall("{http://www.w3.org/2000/svg}rect")) == 7


@pytest.mark.parametrize("days", ["3", "abc", "-7"])
def test_a_period_not_offered_is_a_400(client, days):
    client.force_login(order_manager())

    assert client.get(REPORT, {"days": days}).status_code == 400


def test_a_year_is_drawn_by_week(client):
    client.force_login(order_manager())

    response = client.get(REPORT, {"days": 365})

    assert response.status_code == 200
    assert response.context["bar_unit"] == "week"
    assert len(response.context["bars"]) in (53, 54)


def test_the_report_is_for_those_who_may_see_orders(client):
    anonymous = client.get(REPORT)
    client.force_login(catalog_manager())
    catalog = client.get(REPORT)
    client.force_login(StaffFactory())
    staff = client.get(REPORT)

    assert anonymous.status_code == 302
    assert catalog.status_code == staff.status_code == 403
