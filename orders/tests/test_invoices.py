"""Invoice numbers, sequential per year with no gaps, and the printable invoice and packing
slip staff open from the back office."""

import importlib
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.urls import reverse

from accounts.tests.factories import StaffFactory, order_manager
from catalog.tests.factories import ProductFactory
from orders.invoices import invoice_number_next
from orders.models import InvoiceSequence, Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order

S = OrderStatus


def paid(order):
    return order_transition(order=order, to=S.PAID, source="test")


def new_order(**fields):
    return place_order([(ProductFactory(price=Decimal("12.50"), stock=5), 2)], **fields)


@pytest.mark.django_db
def test_orders_get_the_next_number_of_the_year_when_paid_and_keep_it():
    first, second, unpaid = new_order(), new_order(), new_order()
    year = datetime.now().year

    paid(second)
    paid(first)
    order_transition(order=first, to=S.SHIPPED, source="test")

    numbers = dict(Order.objects.values_list("pk", "invoice_number"))
    assert numbers == {
        second.pk: f"{year}-000001",
        first.pk: f"{year}-000002",
        unpaid.pk: None,
    }


@pytest.mark.django_db
def test_each_year_counts_from_one():
    assert invoice_number_next(datetime(2030, 6, 1, tzinfo=UTC)) == "2030-000001"
    assert invoice_number_next(datetime(2030, 12, 1, tzinfo=UTC)) == "2030-000002"
    assert invoice_number_next(datetime(2031, 1, 15, tzinfo=UTC)) == "2031-000001"


@pytest.mark.django_db
def test_a_paid_move_that_rolls_back_leaves_no_gap():
    order, other = new_order(), new_order()
    year = datetime.now().year

    def paid_then_failed():
        with transaction.atomic():
            paid(order)
            raise RuntimeError("the transaction fails after the number was given")

    with pytest.raises(RuntimeError):
        paid_then_failed()
    paid(other)

    assert Order.objects.get(pk=order.pk).invoice_number is None
    assert Order.objects.get(pk=other.pk).invoice_number == f"{year}-000001"


@pytest.mark.django_db(transaction=True)
def test_orders_paid_at_once_on_many_connections_get_distinct_numbers_with_no_gap():
    orders = [new_order() for _ in range(12)]
    barrier = threading.Barrier(len(orders))
    errors = []

    def pay(order):
        try:
            barrier.wait(timeout=30)
            paid(order)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    year = datetime.now().year
    numbers = sorted(Order.objects.values_list("invoice_number", flat=True))
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 13)]


# The documents.


@pytest.fixture
def store_details(settings):
    settings.STORE_NAME = "Corner Shop"
    settings.STORE_ADDRESS = "1 High Street|Bristol BS1 1AA|United Kingdom"
    settings.STORE_TAX_ID = "GB123456789"


@pytest.mark.django_db
def test_an_order_manager_prints_the_invoice_of_a_paid_order(client, store_details):
    order = paid(new_order(full_name="Ada <b>Lovelace</b>"))
    client.force_login(order_manager())

    response = client.get(reverse("orders:invoice", args=[order.number]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Invoice {order.invoice_number}" in html
    assert "1 High Street<br>Bristol BS1 1AA<br>United Kingdom" in html
    assert "Tax number: GB123456789" in html
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html
    assert "$25.00" in html  # the line: 2 × 12.50
    assert "/static/css/documents." in html
    assert response["Cache-Control"].startswith("max-age=0")  # staff pages are never cached


@pytest.mark.django_db
def test_an_unpaid_order_has_no_invoice_yet(client):
    order = new_order()
    client.force_login(order_manager())

    assert client.get(reverse("orders:invoice", args=[order.number])).status_code == 404


@pytest.mark.django_db
def test_the_packing_slip_lists_what_to_pack_without_prices(client):
    order = new_order()
    client.force_login(order_manager())

    response = client.get(reverse("orders:packing_slip", args=[order.number]))

    html = response.content.decode()
    assert response.status_code == 200
    item = order.items.get()
    assert item.product_sku in html
    assert "$" not in html
    assert order.full_name in html


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["invoice", "packing_slip"])
def test_documents_are_for_staff_who_may_see_orders(client, name):
    order = paid(new_order())
    url = reverse(f"orders:{name}", args=[order.number])

    anonymous = client.get(url)
    client.force_login(order.user)  # the customer: not staff
    customer = client.get(url)
    client.force_login(StaffFactory())  # staff without the orders permission
    staff = client.get(url)

    assert anonymous.status_code == customer.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert staff.status_code == 403


@pytest.mark.django_db
def test_an_unknown_order_is_404_for_an_order_manager(client):
    client.force_login(order_manager())
    assert client.get(reverse("orders:invoice", args=["AAAAA-22222"])).status_code == 404


@pytest.mark.django_db
def test_orders_paid_before_invoice_numbers_get_them_in_the_order_they_were_paid():
    migration = importlib.import_module("orders.migrations.0009_invoice_numbers")
    later, earlier = paid(new_order()), paid(new_order())
    Order.objects.filter(pk=earlier.pk).update(paid_at=datetime(2025, 3, 1, tzinfo=UTC))
    Order.objects.filter(pk=later.pk).update(paid_at=datetime(2025, 4, 1, tzinfo=UTC))
    Order.objects.update(invoice_number=None)
    InvoiceSequence.objects.all().delete()
    unpaid = new_order()

    migration.number_paid_orders(apps, None)

    numbers = dict(Order.objects.values_list("pk", "invoice_number"))
    assert numbers == {earlier.pk: "2025-000001", later.pk: "2025-000002", unpaid.pk: None}
    assert invoice_number_next(datetime(2025, 5, 1, tzinfo=UTC)) == "2025-000003"
