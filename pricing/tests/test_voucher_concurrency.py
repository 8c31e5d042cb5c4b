"""Discount codes under simultaneous checkouts, with real connections to PostgreSQL.

A code's uses are counted under its row lock: however many buyers race, no more orders carry
it than it has uses left, and a once-per-customer code is used once per email address.
"""

import threading
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_add_item
from catalog.tests.factories import ProductFactory, only_variant
from orders.exceptions import CheckoutRefused, InsufficientStock
from orders.models import Order
from orders.tests.factories import checkout_request, fill_cart
from orders.tests.locks import CheckoutThread
from pricing.models import ShippingMethod, ShippingZone, Voucher, VoucherRedemption

pytestmark = pytest.mark.django_db(transaction=True)

JOIN_SECONDS = 120


@pytest.fixture(autouse=True)
def delivery():
    # A transactional test starts from a flushed database: the Worldwide zone a migration
    # made may be gone, so the test brings the delivery its buyers' address (GB) needs.
    zone = ShippingZone.objects.create(name="Great Britain", countries=["GB"])
    ShippingMethod.objects.create(zone=zone, name="Standard", price=Decimal("4.00"))


class RacingCheckout(CheckoutThread):
    """A CheckoutThread that connects first, then waits for every other buyer to be ready."""

    def __init__(self, checkout, barrier):
        super().__init__(checkout)
        self.barrier = barrier

    def run(self):
        try:
            connection.ensure_connection()
            self.barrier.wait(timeout=60)
        except Exception as exc:
            self.error = exc
            connection.close()
            return
        super().run()


def race(checkouts):
    """Place every checkout at the same moment, each on its own connection; the threads."""
    barrier = threading.Barrier(len(checkouts))
    threads = [RacingCheckout(checkout, barrier) for checkout in checkouts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a checkout never finished"
    return threads


def buyer(*lines, code="CODE"):
    """A new shopper with `lines` in their cart and the checkout request for it."""
    user = UserFactory()
    return checkout_request(fill_cart(user, lines), user=user, code=code)


def outcome(threads):
    return Counter(type(t.error).__name__ if t.error else "placed" for t in threads)


def used(code):
    return Voucher.objects.get(code=code).used


def test_20_buyers_racing_for_a_code_with_5_uses_left_make_5_orders_with_it():
    Voucher.objects.create(code="CODE", kind="percentage", value=10, usage_limit=5)
    products = [ProductFactory(price=Decimal("20.00"), stock=10) for _ in range(20)]
    checkouts = [buyer((product, 1)) for product in products]

    threads = race(checkouts)

    assert outcome(threads) == {"placed": 5, "CheckoutRefused": 15}
    placed = {t.result[0].pk for t in threads if t.error is None}
    for thread in threads:
        if thread.error is not None:
            assert thread.error.field == "voucher_code"
            assert str(thread.error) == "CODE has been used up."
    assert set(Order.objects.filter(voucher_code="CODE").values_list("pk", flat=True)) == placed
    assert Order.objects.count() == 5
    assert set(Order.objects.values_list("discount", flat=True)) == {Decimal("2.00")}
    assert used("CODE") == 5
    assert set(VoucherRedemption.objects.values_list("order_id", flat=True)) == placed
    # The refused buyers placed nothing: their carts and their products' stock are as they were.
    stocks = sorted(only_variant(product).stock for product in products)
    assert stocks == [9] * 5 + [10] * 15
    assert Cart.objects.filter(items__isnull=False).distinct().count() == 15


@pytest.mark.parametrize(
    ("stock", "uses", "refused_by"),
    [(3, 5, InsufficientStock), (5, 3, CheckoutRefused)],
)
def test_the_last_units_and_the_last_uses_of_a_code_are_never_oversold(stock, uses, refused_by):
    Voucher.objects.create(code="CODE", kind="fixed", value=Decimal("1.00"), usage_limit=uses)
    product = ProductFactory(price=Decimal("10.00"), stock=stock)
    checkouts = [buyer((product, 1)) for _ in range(10)]

    threads = race(checkouts)

    sold = min(stock, uses)
    assert outcome(threads) == {"placed": sold, refused_by.__name__: 10 - sold}
    assert Order.objects.filter(voucher_code="CODE").count() == Order.objects.count() == sold
    assert only_variant(product).stock == stock - sold
    # No use is counted for a refused buyer: their transaction, redemption and all, rolled back.
    assert used("CODE") == VoucherRedemption.objects.count() == sold


def test_a_once_per_customer_code_is_used_once_by_an_email_racing_from_two_carts():
    Voucher.objects.create(code="ONCE", kind="percentage", value=10, once_per_customer=True)
    checkouts, emails = [], []
    for _ in range(4):
        user = UserFactory()
        emails.append(user.email)
        mine = fill_cart(user, [(ProductFactory(), 1)])
        checkouts.append(checkout_request(mine, user=user, code="ONCE"))
        # The same person as a guest, typing their address in capitals.
        guest_cart = Cart.objects.create(session_key=uuid.uuid4().hex)
        cart_add_item(cart=guest_cart, variant=only_variant(ProductFactory()), quantity=1)
        checkouts.append(checkout_request(guest_cart, email=user.email.upper(), code="ONCE"))

    threads = race(checkouts)

    assert outcome(threads) == {"placed": 4, "CheckoutRefused": 4}
    assert {str(t.error) for t in threads if t.error} == {"You have already used ONCE."}
    customers = VoucherRedemption.objects.values_list("customer", flat=True)
    assert sorted(customers) == sorted(emails)
    assert sorted(e.lower() for e in Order.objects.values_list("email", flat=True)) == sorted(
        emails
    )
    assert used("ONCE") == 0  # no limit: counted by its redemptions alone
