"""Tracking: given when an order is marked shipped, shown to the customer; the times an order
was paid, shipped and delivered, stamped as it moves."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db

S = OrderStatus
TRACKING = {
    "carrier": "Royal Mail",
    "tracking_number": "RM123456789GB",
    "tracking_url": "https://track.example/RM123456789GB",
}


def paid_order(user=None):
    order = place_order([(ProductFactory(stock=5), 1)], user)
    return order_transition(order=order, to=S.PAID, source="test")


def test_shipping_records_the_tracking_and_the_time():
    order = paid_order()

    order_transition(order=order, to=S.SHIPPED, source="back office", details=TRACKING)

    saved = Order.objects.get(pk=order.pk)
    assert {field: getattr(saved, field) for field in TRACKING} == TRACKING
    assert saved.paid_at <= saved.shipped_at
    assert saved.delivered_at is None
    assert order.tracking_number == TRACKING["tracking_number"]  # the caller's copy too
    order_transition(order=order, to=S.DELIVERED, source="back office")
    assert Order.objects.get(pk=order.pk).delivered_at >= saved.shipped_at


@pytest.mark.parametrize(
    "bad",
    [
        {"tracking_url": "javascript:alert(1)"},
        {"tracking_url": "ftp://track.example/1"},
        {"tracking_number": "9" * 101},
    ],
)
def test_bad_tracking_is_refused_and_nothing_moves(bad):
    order = paid_order()

    with pytest.raises(ValidationError):
        order_transition(order=order, to=S.SHIPPED, source="test", details={**TRACKING, **bad})

    saved = Order.objects.get(pk=order.pk)
    assert (saved.status, saved.tracking_number, saved.shipped_at) == (S.PAID, "", None)
    assert not saved.events.filter(to_status=S.SHIPPED).exists()


def test_only_the_status_that_asks_for_details_takes_them():
    order = paid_order()

    with pytest.raises(ValueError, match="takes no details"):
        order_transition(order=order, to=S.REFUNDED, source="test", details=TRACKING)

    assert Order.objects.get(pk=order.pk).status == S.PAID


def test_the_customer_sees_the_tracking_on_the_order_page(client):
    order = paid_order()
    client.force_login(order.user)
    order_transition(order=order, to=S.SHIPPED, source="test", details=TRACKING)

    html = client.get(order.get_absolute_url()).content.decode()

    assert "Royal Mail: RM123456789GB" in html
    assert 'href="https://track.example/RM123456789GB"' in html


def test_shipping_without_a_tracking_number_shows_no_tracking(client):
    order = paid_order()
    client.force_login(order.user)
    order_transition(order=order, to=S.SHIPPED, source="test")

    assert "Track your parcel" not in client.get(order.get_absolute_url()).content.decode()


def test_orders_shipped_before_the_stamps_get_them_from_their_history():
    migration = importlib.import_module("orders.migrations.0008_order_shipping_tracking")
    shipped, delivered, paid = paid_order(), paid_order(), paid_order()
    order_transition(order=shipped, to=S.SHIPPED, source="test")
    order_transition(order=delivered, to=S.SHIPPED, source="test")
    order_transition(order=delivered, to=S.DELIVERED, source="test")
    Order.objects.update(shipped_at=None, delivered_at=None)

    migration.stamp_from_history(apps, None)

    def stamps(order):
        saved = Order.objects.get(pk=order.pk)
        return saved.shipped_at, saved.delivered_at

    def moved(order, status):
        return order.events.get(to_status=status).created

    assert stamps(shipped) == (moved(shipped, S.SHIPPED), None)
    assert stamps(delivered) == (moved(delivered, S.SHIPPED), moved(delivered, S.DELIVERED))
    assert stamps(paid) == (None, None)
