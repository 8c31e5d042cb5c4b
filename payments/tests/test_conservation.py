"""Money and stock add up after any mix of orders, cancellations, failed payments, refunds and
returns: what left the shelves is what was sold less what came back to them, and what was paid
less what was refunded is the revenue the dashboard and the sales report show."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from accounts.tests.factories import order_manager
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderItem, OrderStatus, ReturnLine
from orders.reports import sales_report
from orders.returns import return_approve, return_receive, return_request
from orders.services import order_cancel, order_transition
from orders.tests.factories import place_order
from payments.models import RefundLine, RefundState
from payments.tests.factories import pay, refund

pytestmark = pytest.mark.django_db

S = OrderStatus


def test_stock_and_money_add_up_after_a_mix_of_everything(client):
    a, b, c = (
        ProductFactory(price=Decimal(price), stock=20) for price in ("10.00", "25.00", "7.00")
    )
    staff = order_manager()
    initial = {only_variant(p).pk: 20 for p in (a, b, c)}

    def item(order, product):
        return order.items.get(variant=only_variant(product))

    # Delivered, one A returned (back on sale) and refunded.
    o1 = pay(place_order([(a, 2), (b, 1)]))
    for status in (S.SHIPPED, S.DELIVERED):
        order_transition(order=o1, to=status, source="test")
    back = return_request(order=o1, quantities={item(o1, a).pk: 1}, reason="Spare")
    return_approve(request=back, actor=staff)
    return_receive(request=back, actor=staff, restock=True)
    refund(o1, lines={item(o1, a).pk: 1})
    # Paid, one B refunded before shipping and put back on sale.
    o2 = pay(place_order([(b, 2)]))
    refund(o2, lines={item(o2, b).pk: 1}, restock=True)
    # Cancelled unpaid; a failed payment.
    o3 = place_order([(c, 3)])
    order_cancel(order=o3, source="test")
    o4 = place_order([(a, 1)])
    order_transition(order=o4, to=S.PAYMENT_FAILED, source="test")
    # Shipped, then refunded whole (lost in the post): the order ends refunded.
    o5 = pay(place_order([(c, 2)]))
    order_transition(order=o5, to=S.SHIPPED, source="test")
    refund(o5, amount=o5.total)
    # A goodwill amount; an order still waiting for payment.
    o6 = pay(place_order([(a, 3), (c, 1)]))
    refund(o6, amount=Decimal("5.00"))
    place_order([(b, 1)])

    assert Order.objects.get(pk=o5.pk).status == S.REFUNDED
    # Stock: taken = sold in orders that still hold it - what came back to the shelves.
    held = OrderItem.objects.exclude(order__status__in=[S.CANCELLED, S.PAYMENT_FAILED])
    restocked_refunds = RefundLine.objects.filter(refund__restock=True).exclude(
        refund__state=RefundState.FAILED
    )
    restocked_returns = ReturnLine.objects.filter(return_request__restocked=True)
    for variant in ProductVariant.objects.filter(pk__in=initial):
        sold = held.filter(variant=variant).aggregate(n=Sum("quantity", default=0))["n"]
        back_on_sale = (
            restocked_refunds.filter(item__variant=variant).aggregate(n=Sum("quantity", default=0))[
                "n"
            ]
            + restocked_returns.filter(item__variant=variant).aggregate(
                n=Sum("quantity", default=0)
            )["n"]
        )
        assert initial[variant.pk] - variant.stock == sold - back_on_sale, variant.sku

    # Money: paid - refunded = revenue, on the dashboard and in the report.
    paid = Order.objects.filter(paid_at__isnull=False).aggregate(n=Sum("total"))["n"]
    refunded = sum(o.refunds.filter(state=RefundState.SUCCEEDED).aggregate(
        n=Sum("amount", default=Decimal("0")))["n"] for o in Order.objects.all())  # fmt: skip
    for order in Order.objects.all():
        assert sum(r.amount for r in order.refunds.all()) <= order.total
    client.force_login(staff)
    dashboard = client.get(reverse("dashboard")).context["periods"][2]  # the last 30 days
    assert dashboard["revenue"] == paid - refunded
    assert sales_report(30).total.revenue == paid - refunded
    assert refunded == (
        o1.items.get(variant=only_variant(a)).unit_price  # one A, no tax in this store
        + Decimal("25.00")
        + o5.total
        + Decimal("5.00")
    )
