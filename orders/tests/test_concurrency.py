"""Checkout under simultaneous buyers, with real connections to PostgreSQL."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from orders.models import Order
from orders.services import checkout_signature
from orders.tests.factories import ADDRESS, fill_cart

pytestmark = pytest.mark.django_db(transaction=True)

CHECKOUT = reverse("orders:checkout")


def ready_to_check_out(user, lines):
    """A logged-in client with a filled cart and what the checkout page's form carries."""
    cart = fill_cart(user, lines)
    client = Client()
    client.force_login(user)
    hidden = {"token": uuid.uuid4(), "signature": checkout_signature(cart.contents())}
    return client, {**ADDRESS, **hidden}


def check_out_at_once(shoppers):
    barrier = threading.Barrier(len(shoppers))
    results = []

    def worker(client, data):
        try:
            barrier.wait()
            response = client.post(CHECKOUT, data)
            results.append(
                (response.status_code, response.content.decode(), response.get("Location"))
            )
        except Exception as exc:  # a deadlock or 500 would land here
            results.append((500, repr(exc), None))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=shopper) for shopper in shoppers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_25_shoppers_buying_the_last_10_make_exactly_10_orders():
    product = ProductFactory(name="Hot item", stock=10)
    shoppers = [ready_to_check_out(UserFactory(), [(product, 1)]) for _ in range(25)]

    results = check_out_at_once(shoppers)

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {307: 10, 409: 15}
    refusals = [body for status, body, _ in results if status == 409]
    assert all("Hot item: none left (you asked for 1)" in body for body in refusals)
    assert Order.objects.count() == 10
    assert Product.objects.get(pk=product.pk).stock == 0


def test_carts_in_opposite_orders_never_deadlock():
    a = ProductFactory(name="A", stock=10_000)
    b = ProductFactory(name="B", stock=10_000)
    rounds = 15
    for _ in range(rounds):
        shoppers = [
            ready_to_check_out(UserFactory(), [(a, 1), (b, 1)]),
            ready_to_check_out(UserFactory(), [(b, 1), (a, 1)]),
            ready_to_check_out(UserFactory(), [(a, 2), (b, 3)]),
            ready_to_check_out(UserFactory(), [(b, 3), (a, 2)]),
        ]
        results = check_out_at_once(shoppers)
        assert [status for status, _, _ in results] == [307] * 4, results

    assert Order.objects.count() == 4 * rounds
    assert Product.objects.get(pk=a.pk).stock == 10_000 - 6 * rounds
    assert Product.objects.get(pk=b.pk).stock == 10_000 - 8 * rounds


def test_the_same_form_sent_four_times_at_once_makes_one_order():
    lamp = ProductFactory(stock=100)
    for _ in range(5):
        user = UserFactory()
        client, data = ready_to_check_out(user, [(lamp, 2)])
        clients = [client]
        for _ in range(3):
            clients.append(Client())
            clients[-1].force_login(user)

        results = check_out_at_once([(each, data) for each in clients])

        order = Order.objects.get(user=user)
        # One goes on to payment; the others, having waited for it, are sent to its page.
        assert sorted(location for _, _, location in results) == sorted(
            [reverse("payments:start", args=[order.number])] + [order.get_absolute_url()] * 3
        ), results
        assert order.items.get().quantity == 2
    assert Product.objects.get(pk=lamp.pk).stock == 100 - 5 * 2
