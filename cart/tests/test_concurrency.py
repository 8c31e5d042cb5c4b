"""Simultaneous requests on one cart, with real connections to PostgreSQL."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart.models import CartItem
from catalog.tests.factories import ProductFactory

THREADS = 8


def run_at_once(clients, post):
    barrier = threading.Barrier(len(clients))
    statuses = []

    def worker(client):
        try:
            barrier.wait()
            statuses.append(post(client).status_code)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_simultaneous_adds_of_one_product_make_one_line_with_the_summed_quantity():
    user = UserFactory()
    product = ProductFactory(stock=500)
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(user)
        clients.append(client)

    statuses = run_at_once(
        clients,
        lambda client: client.post(reverse("cart:add"), {"product": product.pk, "quantity": 2}),
    )

    assert statuses == [302] * THREADS
    items = CartItem.objects.filter(cart__user=user)
    assert items.count() == 1
    assert items.get().quantity == 2 * THREADS


@pytest.mark.django_db(transaction=True)
def test_a_guest_adding_from_two_tabs_at_once_gets_one_cart():
    product = ProductFactory(stock=500)
    first = Client()
    first.get(reverse("catalog:product_list"))
    first.session.save()  # the guest already has a session cookie, as after any earlier page
    tabs = [first]
    for _ in range(THREADS - 1):
        tab = Client()
        tab.cookies = first.cookies
        tabs.append(tab)

    statuses = run_at_once(
        tabs,
        lambda client: client.post(reverse("cart:add"), {"product": product.pk, "quantity": 1}),
    )

    assert statuses == [302] * THREADS
    assert CartItem.objects.get().quantity == THREADS
