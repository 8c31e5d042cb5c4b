"""Checkout under simultaneous buyers of variants, with real connections to PostgreSQL."""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, only_variant, product_with_options
from orders.exceptions import Shortage
from orders.models import Order, OrderItem
from orders.tests.factories import checkout_form_data, checkout_request, fill_cart
from orders.tests.locks import CheckoutThread, backend_pid, blocked_by, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CHECKOUT = reverse("orders:checkout")
# How long a checkout that nothing holds up may take on this shared machine. A checkout that
# does wait for the held lock never ends while it is held, whatever this bound.
UNHINDERED_SECONDS = 10


def ready_to_check_out(user, lines):
    """A logged-in client with a filled cart and what the checkout page's form carries."""
    cart = fill_cart(user, lines)
    client = Client()
    client.force_login(user)
    return client, checkout_form_data(cart, user=user)


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


def shirt(name="Shirt", stock=10):
    """A product with three variants (Size: S, M, L), `stock` of each."""
    return product_with_options(name=name, options={"Size": ["S", "M", "L"]}, stock=stock)


def stocks(product):
    return list(product.variants.order_by("position").values_list("stock", flat=True))


def test_25_shoppers_buying_the_last_10_of_a_variant_make_exactly_10_orders():
    product = shirt(name="Hot shirt", stock=10)
    medium = product.variants.get(label="Size: M")
    shoppers = [ready_to_check_out(UserFactory(), [(medium, 1)]) for _ in range(25)]

    results = check_out_at_once(shoppers)

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {307: 10, 409: 15}
    refusals = [body for status, body, _ in results if status == 409]
    assert all("Hot shirt (Size: M): none left (you asked for 1)" in body for body in refusals)
    assert Order.objects.count() == 10
    assert set(OrderItem.objects.values_list("variant_id", "variant_label")) == {
        (medium.pk, "Size: M")
    }
    assert stocks(product) == [10, 0, 10]


def test_25_shoppers_buying_the_last_10_of_a_simple_product_make_exactly_10_orders():
    product = ProductFactory(name="Hot item", stock=10)
    shoppers = [ready_to_check_out(UserFactory(), [(product, 1)]) for _ in range(25)]

    results = check_out_at_once(shoppers)

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {307: 10, 409: 15}
    refusals = [body for status, body, _ in results if status == 409]
    assert all("Hot item: none left (you asked for 1)" in body for body in refusals)
    assert Order.objects.count() == 10
    assert only_variant(product).stock == 0


@pytest.fixture
def checkouts_of_variant_pause():
    """Install a trigger: a checkout of `variant` stops once it has locked its cart and its
    variants (when it writes its order lines) until the test's own connection lets go of an
    advisory lock.

    Returns (pause(variant), resume()). It stands for a checkout of that variant in progress,
    with every lock a checkout takes, for as long as the test wants.
    """
    key = 7_365_001

    def pause(variant):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            cursor.execute(
                """
                CREATE FUNCTION test_checkout_pause() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.variant_id = TG_ARGV[0]::bigint THEN
                        PERFORM pg_advisory_xact_lock(TG_ARGV[1]::bigint);
                    END IF;
                    RETURN NEW;
                END $$
                """
            )
            cursor.execute(
                "CREATE TRIGGER test_checkout_pause BEFORE INSERT ON orders_orderitem "
                "FOR EACH ROW EXECUTE FUNCTION "
                f"test_checkout_pause('{int(variant.pk)}', '{key}')"
            )

    def resume():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")

    yield pause, resume
    resume()
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_checkout_pause ON orders_orderitem")
        cursor.execute("DROP FUNCTION IF EXISTS test_checkout_pause()")


def checkout_thread(variant, quantity=1):
    """A buyer of `variant` with the cart filled, ready to start() (the cart is committed
    first: a thread started while the test holds a transaction open would not see it)."""
    user = UserFactory()
    return CheckoutThread(checkout_request(fill_cart(user, [(variant, quantity)]), user=user))


def test_a_checkout_of_another_variant_is_not_held_up_by_a_locked_variant():
    product = shirt(stock=10)
    small, medium, _ = product.variants.order_by("position")
    same, other = checkout_thread(small), checkout_thread(medium)
    try:
        with transaction.atomic():  # a transaction holding the small variant's row lock
            ProductVariant.objects.select_for_update().get(pk=small.pk)
            holder = backend_pid()
            # The lock is real: a buyer of the small variant waits for it.
            same.start()
            same_pid = same.pids.get(timeout=10)
            wait_for(lambda: not same.is_alive() or blocked_by(same_pid, holder))
            assert same.is_alive(), same.error or same.result

            other.start()
            other.join(timeout=UNHINDERED_SECONDS)

            # Done while the lock is still held, and the small variant's buyer still waits.
            assert not other.is_alive(), "the medium variant's checkout waited for the small one"
            assert other.error is None, other.error
            assert same.is_alive()
    finally:
        for thread in (same, other):
            if thread.is_alive() or thread.ident is not None:
                thread.join(timeout=30)
    assert same.error is None, same.error
    assert Order.objects.count() == 2
    assert stocks(product) == [9, 9, 10]


def test_a_checkout_of_another_variant_is_not_held_up_by_a_checkout_in_progress(
    checkouts_of_variant_pause,
):
    # Here the holder is a checkout itself, stopped with every lock it takes: whatever it
    # locks besides its variant (the product, say), a buyer of a sibling variant goes ahead.
    pause, resume = checkouts_of_variant_pause
    product = shirt(stock=10)
    small, medium, _ = product.variants.order_by("position")
    first, second, other = checkout_thread(small), checkout_thread(small), checkout_thread(medium)
    pause(small)
    started = []
    try:
        for thread in (first, second):
            thread.start()
            started.append(thread)
        first_pid, second_pid = first.pids.get(timeout=10), second.pids.get(timeout=10)
        # One of them holds the small variant and waits for the test; the other waits for it.
        wait_for(
            lambda: (
                blocked_by(second_pid, first_pid)
                or blocked_by(first_pid, second_pid)
                or not (first.is_alive() and second.is_alive())
            )
        )
        assert first.is_alive(), first.error
        assert second.is_alive(), second.error

        other.start()
        started.append(other)
        other.join(timeout=UNHINDERED_SECONDS)

        assert not other.is_alive(), "the medium variant's checkout waited for the small one"
        assert other.error is None, other.error
        assert first.is_alive()
        assert second.is_alive()
    finally:
        resume()
        for thread in started:
            thread.join(timeout=30)
    assert (first.error, second.error) == (None, None)
    assert Order.objects.count() == 3
    assert stocks(product) == [8, 9, 10]


def test_adding_a_variant_to_a_cart_does_not_wait_for_a_checkout_of_it(
    checkouts_of_variant_pause,
):
    # The checkout's lock on the variant keeps its key: a cart line pointing at the variant
    # (whose foreign key check locks the key) is written while the checkout is in progress.
    pause, resume = checkouts_of_variant_pause
    product = shirt(stock=10)
    small = product.variants.get(label="Size: S")
    buyer = checkout_thread(small)
    shopper = UserFactory()
    added = []

    def add_to_cart():
        try:
            added.append(fill_cart(shopper, [(small, 2)]).items.get().quantity)
        except Exception as exc:
            added.append(exc)
        finally:
            connection.close()

    adder = threading.Thread(target=add_to_cart, daemon=True)
    pause(small)
    try:
        buyer.start()
        buyer_pid = buyer.pids.get(timeout=10)
        # The checkout holds the variant, stopped in its INSERT of the order line.
        wait_for(lambda: blocked_by(buyer_pid, backend_pid()) or not buyer.is_alive())
        assert buyer.is_alive(), buyer.error

        adder.start()
        adder.join(timeout=UNHINDERED_SECONDS)

        assert not adder.is_alive(), "adding to the cart waited for the checkout"
        assert added == [2]
        assert buyer.is_alive()
    finally:
        resume()
        buyer.join(timeout=30)
        if adder.ident is not None:
            adder.join(timeout=30)
    assert buyer.error is None, buyer.error
    assert stocks(product) == [9, 10, 10]


@pytest.mark.parametrize("products", ["one product", "two products"])
def test_carts_with_variants_in_opposite_orders_never_deadlock(products):
    if products == "one product":
        a, b, _ = shirt(stock=10_000).variants.order_by("position")
    else:
        a = shirt(name="Shirt", stock=10_000).variants.get(label="Size: M")
        b = shirt(name="Hat", stock=10_000).variants.get(label="Size: S")
    # B's id above A's: a cart listing B first asks for the locks against id order.
    assert a.pk < b.pk
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
    assert ProductVariant.objects.get(pk=a.pk).stock == 10_000 - 6 * rounds
    assert ProductVariant.objects.get(pk=b.pk).stock == 10_000 - 8 * rounds


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
    assert only_variant(lamp).stock == 100 - 5 * 2


def test_a_refusal_after_waiting_names_the_variant_and_what_is_left():
    # Two buyers want 3 of the last 4 M shirts: whoever waits is told what the other left.
    product = shirt(stock=4)
    medium = product.variants.get(label="Size: M")
    results = check_out_at_once([ready_to_check_out(UserFactory(), [(medium, 3)]) for _ in "ab"])

    assert sorted(status for status, _, _ in results) == [307, 409]
    [refusal] = [body for status, body, _ in results if status == 409]
    assert str(Shortage("Shirt (Size: M)", requested=3, available=1)) in refusal
    assert stocks(product) == [4, 1, 4]
