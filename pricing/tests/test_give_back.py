"""A discount code's use comes back, exactly once, when its order is cancelled, expires or fails
payment; never for an order that was paid."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory, only_variant
from orders.exceptions import IllegalTransition, OrderError
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import order_cancel, order_transition
from orders.tests.factories import place_order
from payments.services import payment_start, unpaid_orders_release, webhook_receive
from payments.tests.conftest import signed_event
from payments.tests.stripe_double import StripeDouble
from pricing.models import ShippingMethod, ShippingZone, Voucher, VoucherRedemption
from pricing.services import voucher_give_back

S = OrderStatus
SUCCESS_URL = "https://testserver/payments/done/?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://testserver/cart/"


@pytest.fixture(autouse=True)
def delivery():
    # Transactional tests start from a flushed database (the Worldwide zone may be gone).
    zone = ShippingZone.objects.create(name="Great Britain", countries=["GB"])
    ShippingMethod.objects.create(zone=zone, name="Standard", price=Decimal("4.00"))


@pytest.fixture
def stripe_api(settings):
    """The Stripe API double (payments/tests), for orders with a payment session open."""
    double = StripeDouble()
    settings.PAYMENT_BACKEND = "stripe"
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield double
    double.close()


def code(**fields):
    return Voucher.objects.create(code="BACK", kind="percentage", value=10, **fields)


def order_with_code(user=None, quantity=2):
    """An order of `quantity` (stock 10) placed with the code BACK."""
    product = ProductFactory(price=Decimal("20.00"), stock=10)
    return place_order([(product, quantity)], user, code="BACK"), product


def used():
    return Voucher.objects.get(code="BACK").used


def redeemed(order):
    return VoucherRedemption.objects.filter(order=order).exists()


def status(order):
    return Order.objects.get(pk=order.pk).status


def provider_says(kind, session):
    """A signed event from the provider, received as the webhook receives it."""
    body, signature = signed_event(kind, session, secret=django_settings.STRIPE_WEBHOOK_SECRET)
    result = webhook_receive(body=body.encode(), signature=signature)
    assert result.status == 200, result.message
    return result.message


def open_session(order, stripe_api):
    payment = payment_start(order=order, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    return stripe_api.sessions[payment.session_id]


# --- One path at a time -------------------------------------------------------------------------


@pytest.mark.django_db
def test_placing_an_order_with_a_code_uses_it():
    code(usage_limit=10)
    order, _ = order_with_code()
    assert order.voucher_code == "BACK"
    assert (used(), redeemed(order)) == (1, True)
    assert Voucher.objects.get(code="BACK").uses_left == 9


@pytest.mark.django_db
def test_a_customer_cancelling_gives_the_use_back():
    code(usage_limit=10)
    order, product = order_with_code()
    other, _ = order_with_code()

    order_cancel(order=order, actor=order.user, source="customer")

    assert status(order) == S.CANCELLED
    assert (used(), redeemed(order), redeemed(other)) == (1, False, True)
    assert only_variant(product).stock == 10


@pytest.mark.django_db
def test_a_failed_payment_gives_the_use_back(stripe_api):
    code(usage_limit=10)
    order, _ = order_with_code()
    session = open_session(order, stripe_api)
    stripe_api.complete(session["id"], payment_status="unpaid")  # a delayed payment method

    provider_says("checkout.session.async_payment_failed", session)

    assert status(order) == S.PAYMENT_FAILED
    assert (used(), redeemed(order)) == (0, False)


@pytest.mark.django_db
def test_an_expired_payment_session_gives_the_use_back(stripe_api):
    code(usage_limit=10)
    order, _ = order_with_code()
    session = open_session(order, stripe_api)

    provider_says("checkout.session.expired", {**session, "status": "expired"})

    assert status(order) == S.CANCELLED
    assert (used(), redeemed(order)) == (0, False)


@pytest.mark.django_db
def test_releasing_an_unpaid_order_gives_the_use_back():
    code(usage_limit=10)
    order, _ = order_with_code()

    sweep = unpaid_orders_release(older_than=timezone.now() + timedelta(hours=1))

    assert sweep.done == [(order.number, "cancelled")]
    assert (used(), redeemed(order)) == (0, False)


@pytest.mark.django_db
def test_a_paid_then_shipped_order_keeps_its_use(stripe_api):
    code(usage_limit=10)
    order, _ = order_with_code()
    session = open_session(order, stripe_api)
    stripe_api.complete(session["id"])

    provider_says("checkout.session.completed", session)
    assert status(order) == S.PAID
    assert (used(), redeemed(order)) == (1, True)

    order_transition(order=order, to=S.SHIPPED, source="staff")
    assert status(order) == S.SHIPPED
    assert (used(), redeemed(order)) == (1, True)

    # A late "expired" for the paid session changes nothing either.
    provider_says("checkout.session.expired", {**session, "status": "expired"})
    assert (status(order), used(), redeemed(order)) == (S.SHIPPED, 1, True)


@pytest.mark.django_db
def test_a_use_is_given_back_once_however_often_it_is_asked():
    code(usage_limit=10)
    order, _ = order_with_code()
    order_with_code()
    order_cancel(order=order, source="customer")
    assert used() == 1

    with pytest.raises(IllegalTransition):
        order_cancel(order=Order.objects.get(pk=order.pk), source="customer")
    assert voucher_give_back(order=order) is False

    assert used() == 1


@pytest.mark.django_db
def test_a_use_of_a_code_without_a_limit_is_given_back_by_its_redemption_alone():
    code()
    order, _ = order_with_code()
    order_cancel(order=order, source="customer")

    assert (used(), redeemed(order)) == (0, False)


@pytest.mark.django_db
def test_a_once_per_customer_code_can_be_used_again_after_its_order_is_cancelled():
    code(once_per_customer=True)
    user = UserFactory()
    order, _ = order_with_code(user)
    order_cancel(order=order, source="customer")

    again, _ = order_with_code(user)

    assert again.voucher_code == "BACK"
    assert VoucherRedemption.objects.get().order == again


# --- Every cancel path at once ------------------------------------------------------------------


def race(*jobs):
    """Run each job on a thread and a connection of its own, all released at one moment.

    Returns each job's (result, exception)."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [(None, None)] * len(jobs)

    def run(index, job):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcomes[index] = (job(), None)
        except Exception as exc:
            outcomes[index] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a cancel path never finished"
    return outcomes


def paid_for():
    """An order with the code that was paid: unpaid_orders_release leaves it alone."""
    order, _ = order_with_code()
    return order_transition(order=order, to=S.PAID, source="test")


def assert_given_back_once(order, product, outcomes, used_before):
    # Losers find the order already moved (an OrderError); nothing else may go wrong.
    for _, error in outcomes:
        assert error is None or isinstance(error, OrderError), repr(error)
    moves = OrderEvent.objects.filter(order=order).exclude(from_status="")
    assert moves.count() == 1
    assert status(order) == moves.get().to_status
    assert status(order) in (S.CANCELLED, S.PAYMENT_FAILED)
    assert used() == used_before - 1
    assert not redeemed(order)
    assert only_variant(product).stock == 10  # its stock back once, too


@pytest.mark.django_db(transaction=True)
def test_three_cancel_paths_racing_on_one_order_give_its_use_back_once():
    code(usage_limit=20)
    paid_for()  # another order's use, which stays
    for _ in range(3):  # three rounds: the threads interleave differently each time
        order, product = order_with_code()
        before = used()
        as_loaded = [Order.objects.get(pk=order.pk) for _ in range(2)]

        outcomes = race(
            lambda o=as_loaded[0]: order_cancel(order=o, source="customer"),
            lambda: unpaid_orders_release(older_than=timezone.now() + timedelta(hours=1)),
            lambda o=as_loaded[1]: order_transition(order=o, to=S.PAYMENT_FAILED, source="webhook"),
        )

        assert_given_back_once(order, product, outcomes, before)
    assert used() == VoucherRedemption.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_cancel_release_and_the_providers_expiry_racing_give_the_use_back_once(stripe_api):
    code(usage_limit=20)
    paid_for()
    for _ in range(3):
        order, product = order_with_code()
        session = open_session(order, stripe_api)
        before = used()
        as_loaded = Order.objects.get(pk=order.pk)

        outcomes = race(
            lambda o=as_loaded: order_cancel(order=o, source="customer"),
            lambda: unpaid_orders_release(older_than=timezone.now() + timedelta(hours=1)),
            lambda s=session: provider_says("checkout.session.expired", {**s, "status": "expired"}),
        )

        assert_given_back_once(order, product, outcomes, before)
    assert used() == VoucherRedemption.objects.count() == 1
