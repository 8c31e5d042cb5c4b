"""Checkout's stock guards in _order_place, each tested alone.

(1) The variant row locks: on PostgreSQL a checkout waits for a transaction that holds one of
its variants and then reads the variant as committed. (2) `stock >= quantity` in the UPDATE and
(3) its row count checked: stock that is not there is never taken, whatever the checks read. On
SQLite the IMMEDIATE transaction mode stands in for (1). Each test fails when its guard is
taken away.
"""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from cart.models import CartItem
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, only_variant, product_with_options
from orders.exceptions import CartChanged, InsufficientStock, Shortage
from orders.models import Order, OrderItem
from orders.services import order_place
from orders.tests.factories import checkout_request, fill_cart
from orders.tests.locks import CheckoutThread, backend_pid, blocked_by, wait_for

ROOT = Path(__file__).resolve().parents[2]


def check_out(user, cart):
    return order_place(checkout_request(cart, user=user))


# --- Guard 1: the variant row locks (PostgreSQL) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("options", [None, {"Size": ["S", "M"]}], ids=["simple", "with-options"])
@pytest.mark.parametrize(
    ("change", "refusal"),
    [({"is_active": False}, InsufficientStock), ({"price": Decimal("12.00")}, CartChanged)],
    ids=["deactivated", "repriced"],
)
def test_a_checkout_waits_for_a_variant_being_changed_and_sees_the_change(change, refusal, options):
    # Only the row lock makes the checkout wait before it reads: without it, it reads the row as
    # it was before the change, the stock UPDATE (which checks stock alone) waits instead, and a
    # deactivated variant is sold, or one at its old price.
    if options:
        lamp = product_with_options(name="Lamp", options=options, price=Decimal("10.00"), stock=5)
        variant = lamp.variants.get(label="Size: M")
    else:
        lamp = ProductFactory(name="Lamp", price=Decimal("10.00"), stock=5)
        variant = only_variant(lamp)
    user = UserFactory()
    cart = fill_cart(user, [(variant, 1)])
    checkout = CheckoutThread(checkout_request(cart, user=user))
    try:
        with transaction.atomic():  # staff changing the variant, not committed yet
            ProductVariant.objects.filter(pk=variant.pk).update(**change)
            holder = backend_pid()
            checkout.start()
            pid = checkout.pids.get(timeout=10)
            wait_for(lambda: not checkout.is_alive() or blocked_by(pid, holder))
            assert checkout.is_alive(), "the checkout went ahead without waiting for the product"
    finally:
        checkout.join(timeout=10)
    assert not checkout.is_alive()

    assert isinstance(checkout.error, refusal), checkout.error or checkout.result
    assert not Order.objects.exists()
    assert set(ProductVariant.objects.filter(product=lamp).values_list("stock", flat=True)) == {5}
    assert CartItem.objects.get(cart=cart).quantity == 1


# --- Guards 2 and 3: the conditional UPDATE and its row count -------------------------------------


@pytest.fixture
def stock_drops_when_sold(db):
    """Install a trigger: writing an order line for `variant` first sets its stock to `left`.

    It stands for a writer that gets in between the checks and the stock UPDATE, which the
    store's locks keep out today. It runs in the checkout's own transaction, so the rollback of
    a refused checkout undoes its write too.
    """

    def install(variant, left):
        with connection.cursor() as cursor:
            cursor.execute(
                """
                CREATE FUNCTION test_stock_drops() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.variant_id = TG_ARGV[0]::bigint THEN
                        UPDATE catalog_productvariant SET stock = TG_ARGV[1]::integer
                        WHERE id = NEW.variant_id;
                    END IF;
                    RETURN NEW;
                END $$
                """
            )
            cursor.execute(
                "CREATE TRIGGER test_stock_drops BEFORE INSERT ON orders_orderitem FOR EACH ROW "
                f"EXECUTE FUNCTION test_stock_drops('{int(variant.pk)}', '{int(left)}')"
            )

    yield install
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_stock_drops ON orders_orderitem")
        cursor.execute("DROP FUNCTION IF EXISTS test_stock_drops()")


def test_stock_that_went_below_the_quantity_after_the_check_is_not_sold(stock_drops_when_sold):
    # Without `stock >= quantity` the UPDATE takes the stock to -1 and the database's check fails
    # the checkout with an IntegrityError (a 500); without the row count, the order is placed
    # and no stock is taken.
    lamp = ProductFactory(name="Lamp", stock=5)
    user = UserFactory()
    cart = fill_cart(user, [(lamp, 3)])
    stock_drops_when_sold(only_variant(lamp), left=2)

    with pytest.raises(InsufficientStock) as refused:
        check_out(user, cart)

    assert refused.value.shortages == [Shortage("Lamp", requested=3, available=2)]
    assert "Lamp: only 2 left (you asked for 3)" in str(refused.value)
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    # Everything was rolled back, the trigger's write with it.
    assert only_variant(lamp).stock == 5
    assert CartItem.objects.get(cart=cart).quantity == 3


def test_one_short_line_stops_the_whole_order(stock_drops_when_sold):
    # The row count is held to the number of lines, not to "some": the mug's stock and the other
    # shirt's were taken by the same UPDATE and are given back with everything else.
    lamp = ProductFactory(name="Lamp", stock=5)
    mug = ProductFactory(name="Mug", stock=5)
    shirt = product_with_options(name="Shirt", options={"Size": ["S", "M"]}, stock=5)
    small, medium = shirt.variants.order_by("position")
    user = UserFactory()
    cart = fill_cart(user, [(lamp, 3), (mug, 1), (small, 1), (medium, 4)])
    stock_drops_when_sold(medium, left=3)

    with pytest.raises(InsufficientStock) as refused:
        check_out(user, cart)

    assert refused.value.shortages == [Shortage("Shirt (Size: M)", requested=4, available=3)]
    assert not Order.objects.exists()
    assert sorted(ProductVariant.objects.values_list("stock", flat=True)) == [5, 5, 5, 5]
    quantities = CartItem.objects.filter(cart=cart).values_list("quantity", flat=True)
    assert sorted(quantities) == [1, 1, 3, 4]


# --- SQLite: the IMMEDIATE transaction mode -------------------------------------------------------


def test_on_sqlite_shoppers_racing_for_the_last_item_buy_it_once(tmp_path):
    # The store as `make run` starts it (settings' SQLite options), eight checkouts at once, each
    # from its own thread and connection. IMMEDIATE makes them queue for the write lock: one
    # order, seven clean refusals. In SQLite's default DEFERRED mode nothing is oversold either,
    # but the losers fail with "database is locked" (a 500) instead of being told it is gone.
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "ENV_FILE": "",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    result = tmp_path / "result.json"
    run = subprocess.run(
        [sys.executable, "-m", "orders.tests.sqlite_race", str(result), "8", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    race = json.loads(result.read_text())
    assert race["engine"] == "django.db.backends.sqlite3"
    assert race["outcomes"] == ["ordered"] + ["refused: Lamp: none left (you asked for 1)"] * 7
    assert race["orders"] == 1
    assert race["stock"] == 0
