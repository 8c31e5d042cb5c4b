"""Money rules the database enforces on orders."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderItem
from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_total_that_is_not_subtotal_plus_shipping():
    order = place_order([(ProductFactory(), 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(total=order.total + Decimal("0.01"))


def test_the_database_refuses_a_line_total_that_is_not_price_times_quantity():
    order = place_order([(ProductFactory(), 2)])
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderItem.objects.filter(order=order).update(quantity=3)


def test_the_database_refuses_an_unknown_status():
    order = place_order([(ProductFactory(), 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="lost")
