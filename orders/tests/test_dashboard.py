"""The dashboard: revenue net of refunds for order managers; low stock for catalog managers
too."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StaffFactory, catalog_manager, order_manager
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from orders.tests.factories import place_order
from payments.tests.factories import pay, refund

pytestmark = pytest.mark.django_db

S = OrderStatus
DASHBOARD = reverse("dashboard")


def paid_order(price):
    return pay(place_order([(ProductFactory(price=Decimal(price), stock=5), 1)]))


def test_revenue_is_net_of_refunds(client):
    kept = paid_order("40.00")
    refunded = paid_order("15.00")
    refund(refunded, amount=Decimal("5.00"))  # part of it
    client.force_login(order_manager())

    today = client.get(DASHBOARD).context["periods"][0]

    assert (today["count"], today["sales"]) == (2, kept.total + refunded.total)
    assert today["refunded"] == Decimal("5.00")
    assert today["revenue"] == kept.total + refunded.total - Decimal("5.00")


def test_catalog_managers_see_low_stock_and_no_orders(client, settings):
    settings.LOW_STOCK_THRESHOLD = 3
    ProductFactory(name="Nearly gone", stock=1)
    paid_order("99.00")
    client.force_login(catalog_manager())

    page = client.get(DASHBOARD)

    html = page.content.decode()
    assert page.status_code == 200
    assert "Nearly gone" in html
    assert "Orders and revenue" not in html
    assert "periods" not in page.context
    assert "$99.00" not in html


def test_staff_without_either_permission_are_refused(client):
    client.force_login(StaffFactory())

    assert client.get(DASHBOARD).status_code == 403
