"""The order list as CSV: what the back office's list shows with the same filters, streamed."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StaffFactory, UserFactory, order_manager
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db

EXPORT = reverse("orders:export")


def rows(response):
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def manager(client):
    client.force_login(order_manager())
    return client


def order(price="10.00", **address):
    return place_order([(ProductFactory(price=Decimal(price), stock=5), 1)], **address)


def test_the_export_has_every_order_with_its_figures(manager):
    first = order("10.00")
    second = order_transition(order=order("20.00"), to=OrderStatus.PAID, source="test")

    exported = rows(manager.get(EXPORT))

    assert [row["Order"] for row in exported] == [second.number, first.number]
    assert exported[0]["Status"] == "Paid"
    assert exported[0]["Invoice"] == second.invoice_number
    assert exported[0]["Total"] == str(second.total)
    assert exported[1]["Paid"] == ""
    assert exported[1]["Email"] == first.email


def test_the_export_follows_the_lists_filters_and_search(manager):
    paid = order_transition(order=order(), to=OrderStatus.PAID, source="test")
    order()
    ada = place_order([(ProductFactory(stock=5), 1)], UserFactory(email="ada@example.com"))

    by_status = rows(manager.get(EXPORT, {"status__exact": "paid"}))
    by_search = rows(manager.get(EXPORT, {"q": "ada@example.com"}))
    page = manager.get(reverse("admin:orders_order_changelist"), {"status__exact": "paid"})

    assert [row["Order"] for row in by_status] == [paid.number]
    assert [row["Order"] for row in by_search] == [ada.number]
    assert f'{EXPORT}?status__exact=paid"' in page.content.decode()


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused(manager):
    order(full_name='=HYPERLINK("http://evil.example","click")', city="-2+3")

    exported = rows(manager.get(EXPORT))

    assert exported[0]["Name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert exported[0]["City"] == "'-2+3"


def test_filters_the_list_does_not_know_are_a_400(manager):
    response = manager.get(EXPORT, {"no_such_field__exact": "1"})

    assert response.status_code == 400


def test_only_staff_who_may_see_orders_export_them(client):
    order()
    anonymous = client.get(EXPORT)
    client.force_login(StaffFactory())
    staff = client.get(EXPORT)

    assert anonymous.status_code == 302
    assert staff.status_code == 403
