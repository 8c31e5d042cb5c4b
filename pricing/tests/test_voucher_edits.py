"""A code edited by staff while an order is being placed with it: the order is not placed on
terms that changed under it (PostgreSQL, real concurrent connections)."""

from decimal import Decimal

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from orders.exceptions import CartChanged
from orders.models import Order
from orders.tests.factories import checkout_request, default_method, fill_cart
from orders.tests.locks import CheckoutThread, backend_pid, blocked_by, wait_for
from pricing.models import Voucher
from pricing.tests.factories import VoucherFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("edit", "error"),
    [
        ({"value": Decimal("50")}, CartChanged),  # the shopper's page said 10 % off
        ({"usage_limit": 0}, None),  # used up by the edit: refused as a code, not a total
    ],
    ids=["value-changed", "limit-lowered"],
)
def test_an_order_waits_for_a_staff_edit_of_its_code_and_is_priced_on_the_new_terms(edit, error):
    default_method("GB")
    voucher = VoucherFactory(code="EDITED", value=Decimal("10"))
    user = UserFactory()
    cart = fill_cart(user, [(ProductFactory(price=Decimal("20.00"), stock=5), 1)])
    checkout = CheckoutThread(checkout_request(cart, user=user, code="EDITED"))

    with transaction.atomic():  # staff saving the code, holding its row
        Voucher.objects.select_for_update().get(pk=voucher.pk)
        Voucher.objects.filter(pk=voucher.pk).update(**edit)
        checkout.start()
        pid = checkout.pids.get(timeout=10)
        # The checkout waits to read the code (FOR KEY SHARE) until the edit commits.
        wait_for(lambda: blocked_by(pid, backend_pid()))
    checkout.join(timeout=10)

    if error is not None:
        assert isinstance(checkout.error, error)
    else:
        assert str(checkout.error) == "EDITED has been used up."
    assert not Order.objects.exists()
    voucher.refresh_from_db()
    assert voucher.used == 0
    assert not voucher.redemptions.exists()
