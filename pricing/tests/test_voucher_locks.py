"""Who waits for whom on a discount code's row (PostgreSQL, real concurrent connections).

A checkout reads its code FOR KEY SHARE until it commits. A code with a use limit has the use
counted under its row lock; one without is never written by checkout, so its buyers never wait
for each other. A staff edit takes FOR UPDATE: it waits for the checkouts (and give-backs)
using the code, and counts the uses so far when it sets a limit.
"""

import queue
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from orders.exceptions import CheckoutRefused
from orders.tests.factories import checkout_request, default_method, fill_cart, place_order
from orders.tests.locks import CheckoutThread, backend_pid, blocked_by, wait_for
from pricing.models import Voucher, VoucherRedemption
from pricing.services import price, voucher_give_back, voucher_redeem
from pricing.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def delivery():
    default_method("GB")  # a flushed database has lost the Worldwide zone: made again


class LimitSet(threading.Thread):
    """Staff saving the code with a use limit, on a connection of its own."""

    def __init__(self, voucher, limit):
        super().__init__(daemon=True)
        self.pk, self.limit = voucher.pk, limit
        self.pids = queue.Queue()
        self.error = None

    def run(self):
        try:
            self.pids.put(backend_pid())
            voucher = Voucher.objects.get(pk=self.pk)
            voucher.usage_limit = self.limit
            voucher.save()
        except Exception as exc:
            self.error = exc
        finally:
            connection.close()


def waits_for_this_connection(thread):
    pid = thread.pids.get(timeout=10)
    wait_for(lambda: blocked_by(pid, backend_pid()))


def new_buyer(code):
    user = UserFactory()
    cart = fill_cart(user, [(ProductFactory(price=Decimal("20.00"), stock=5), 1)])
    return checkout_request(cart, user=user, code=code)


def test_a_checkout_with_a_code_without_a_limit_never_waits_for_the_codes_row():
    voucher = VoucherFactory(code="OPEN")
    checkout = CheckoutThread(new_buyer("OPEN"))

    with transaction.atomic():
        # The lock a checkout counting a use of a limited code holds until it commits.
        Voucher.objects.select_for_update(no_key=True).get(pk=voucher.pk)
        checkout.start()
        checkout.join(timeout=10)
        placed_meanwhile = not checkout.is_alive()

    checkout.join(timeout=10)
    assert placed_meanwhile
    assert checkout.error is None
    assert VoucherRedemption.objects.get().order == checkout.result[0]
    assert Voucher.objects.get().used == 0  # its uses are its redemptions


def test_a_checkout_with_a_limited_code_counts_its_use_under_the_codes_row_lock():
    voucher = VoucherFactory(code="FEW", usage_limit=5)
    checkout = CheckoutThread(new_buyer("FEW"))

    with transaction.atomic():
        Voucher.objects.select_for_update(no_key=True).get(pk=voucher.pk)
        checkout.start()
        waits_for_this_connection(checkout)
        assert not VoucherRedemption.objects.exists()

    checkout.join(timeout=10)
    assert checkout.error is None
    assert (Voucher.objects.get().used, VoucherRedemption.objects.count()) == (1, 1)


def test_a_limit_set_while_an_order_is_placed_with_the_code_waits_and_counts_its_use():
    voucher = VoucherFactory(code="OPEN")
    order = place_order([(ProductFactory(price=Decimal("20.00"), stock=5), 1)])
    staff = LimitSet(voucher, 1)

    with transaction.atomic():  # a checkout: priced with the code, its use not yet recorded
        priced = price(order.items.all(), country="GB", code="open", email=order.email, strict=True)
        staff.start()
        waits_for_this_connection(staff)
        voucher_redeem(voucher=priced.voucher, order=order, email=order.email)

    staff.join(timeout=10)
    assert staff.error is None
    assert (Voucher.objects.get().usage_limit, Voucher.objects.get().used) == (1, 1)
    with pytest.raises(CheckoutRefused, match=r"^OPEN has been used up\.$"):
        place_order([(ProductFactory(), 1)], code="OPEN")


def test_a_limit_set_while_a_use_is_given_back_waits_and_does_not_count_it():
    voucher = VoucherFactory(code="OPEN")
    order = place_order([(ProductFactory(price=Decimal("20.00"), stock=5), 1)], code="OPEN")
    staff = LimitSet(voucher, 1)

    with transaction.atomic():  # an order being cancelled
        assert voucher_give_back(order=order)
        staff.start()
        waits_for_this_connection(staff)

    staff.join(timeout=10)
    assert staff.error is None
    assert not VoucherRedemption.objects.exists()
    assert (Voucher.objects.get().usage_limit, Voucher.objects.get().used) == (1, 0)
    assert place_order([(ProductFactory(), 1)], code="OPEN").voucher_code == "OPEN"
