"""The status graph: every legal and illegal move, stock given back once, events, emails."""

import pytest
from django.core import mail

from accounts.tests.factories import StaffFactory
from catalog.models import ProductVariant
from catalog.tests.factories import ProductFactory, only_variant, product_with_options
from orders.exceptions import IllegalTransition
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.status import STATUSES
from orders.tests.factories import place_order
from shop.models import Email, EmailStatus
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

S = OrderStatus
# How to reach each status from a new order.
PATHS = {
    S.PENDING_PAYMENT: [],
    S.PAID: [S.PAID],
    S.SHIPPED: [S.PAID, S.SHIPPED],
    S.DELIVERED: [S.PAID, S.SHIPPED, S.DELIVERED],
    S.REFUNDED: [S.PAID, S.REFUNDED],
    S.PAYMENT_FAILED: [S.PAYMENT_FAILED],
    S.CANCELLED: [S.CANCELLED],
}
LEGAL = {
    (S.PENDING_PAYMENT, S.PAID),
    (S.PENDING_PAYMENT, S.PAYMENT_FAILED),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PAID, S.SHIPPED),
    (S.PAID, S.REFUNDED),
    (S.SHIPPED, S.DELIVERED),
    (S.SHIPPED, S.REFUNDED),
    (S.DELIVERED, S.REFUNDED),
}
ALL_MOVES = [(a, b) for a in S for b in S]


def order_in(status, product=None, quantity=2):
    product = product or ProductFactory(stock=10)
    order = place_order([(product, quantity)])
    for step in PATHS[status]:
        order_transition(order=order, to=step, source="test")
    return order


def test_the_graph_is_the_one_in_the_design():
    assert {(a, b) for a, state in STATUSES.items() for b in state.moves} == LEGAL


@pytest.mark.parametrize(("from_status", "to"), sorted(LEGAL))
def test_every_legal_move_is_made_and_recorded(from_status, to):
    order = order_in(from_status)
    staff = StaffFactory()

    order_transition(order=order, to=to, actor=staff, source="back office", note="why")

    order.refresh_from_db()
    assert order.status == to
    event = order.events.last()
    assert (event.from_status, event.to_status, event.actor, event.source, event.note) == (
        from_status,
        to,
        staff,
        "back office",
        "why",
    )


@pytest.mark.parametrize(("from_status", "to"), sorted(set(ALL_MOVES) - LEGAL))
def test_every_illegal_move_is_refused_and_changes_nothing(from_status, to):
    product = ProductFactory(stock=10)
    order = order_in(from_status, product)
    events, stock = order.events.count(), only_variant(product).stock

    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=to, source="test")

    assert Order.objects.get(pk=order.pk).status == from_status
    assert order.events.count() == events
    assert only_variant(product).stock == stock


def test_paid_records_when():
    order = order_in(S.PENDING_PAYMENT)
    assert order.paid_at is None
    order_transition(order=order, to=S.PAID, source="test")
    assert Order.objects.get(pk=order.pk).paid_at is not None


@pytest.mark.parametrize("to", [S.CANCELLED, S.PAYMENT_FAILED])
def test_cancel_and_failed_payment_give_the_stock_back(to):
    product = ProductFactory(stock=10)
    order = order_in(S.PENDING_PAYMENT, product, quantity=3)
    assert only_variant(product).stock == 7

    order_transition(order=order, to=to, source="test")

    assert only_variant(product).stock == 10


@pytest.mark.parametrize("to", [S.CANCELLED, S.PAYMENT_FAILED])
def test_the_stock_goes_back_to_the_variants_sold_and_no_others(to):
    shirt = product_with_options(name="Shirt", options={"Size": ["S", "M", "L"]}, stock=10)
    small, medium, _ = shirt.variants.order_by("position")
    order = place_order([(small, 1), (medium, 4)])
    assert [v.stock for v in shirt.variants.order_by("position")] == [9, 6, 10]
    ProductVariant.objects.filter(pk=medium.pk).update(stock=2)  # sold elsewhere meanwhile

    order_transition(order=order, to=to, source="test")

    assert [v.stock for v in shirt.variants.order_by("position")] == [10, 6, 10]


def test_stock_comes_back_exactly_once_when_cancelled_twice():
    product = ProductFactory(stock=10)
    order = order_in(S.PENDING_PAYMENT, product, quantity=3)
    order_transition(order=order, to=S.CANCELLED, source="customer")

    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=S.CANCELLED, source="customer")

    assert only_variant(product).stock == 10


def test_cancel_after_expiry_gives_nothing_back_twice():
    product = ProductFactory(stock=10)
    order = order_in(S.PENDING_PAYMENT, product, quantity=4)
    order_transition(order=order, to=S.CANCELLED, source="expiry", note="Payment window expired")

    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=S.CANCELLED, source="customer")
    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=S.PAYMENT_FAILED, source="webhook")

    assert only_variant(product).stock == 10


def test_a_stale_copy_of_the_order_cannot_move_it_twice():
    product = ProductFactory(stock=10)
    order = order_in(S.PENDING_PAYMENT, product, quantity=2)
    stale = Order.objects.get(pk=order.pk)
    order_transition(order=order, to=S.CANCELLED, source="customer")

    with pytest.raises(IllegalTransition):
        order_transition(order=stale, to=S.CANCELLED, source="back office")

    assert only_variant(product).stock == 10


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        (S.PAID, "Payment received"),
        (S.CANCELLED, "is cancelled"),
    ],
)
def test_the_customer_is_emailed_through_the_outbox(to, subject):
    order = order_in(S.PENDING_PAYMENT)
    deliver_queued()
    mail.outbox.clear()

    order_transition(order=order, to=to, source="test")
    assert mail.outbox == []  # queued with the change; the outbox's worker sends it
    deliver_queued()

    assert len(mail.outbox) == 1
    assert subject in mail.outbox[0].subject
    assert mail.outbox[0].to == [order.email]


def test_shipped_is_emailed_with_the_address():
    order = order_in(S.PAID)
    order_transition(order=order, to=S.SHIPPED, source="test")
    deliver_queued()
    assert "on its way" in mail.outbox[-1].subject
    assert "London" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("to", "subject"),
    [(S.DELIVERED, "has been delivered"), (S.PAYMENT_FAILED, "could not take payment")],
)
def test_delivery_and_a_failed_payment_are_emailed(to, subject):
    order = order_in(S.SHIPPED if to == S.DELIVERED else S.PENDING_PAYMENT)
    deliver_queued()
    mail.outbox.clear()

    order_transition(order=order, to=to, source="test")
    deliver_queued()

    assert len(mail.outbox) == 1
    assert subject in mail.outbox[0].subject
    assert mail.outbox[0].to == [order.email]


def test_a_refund_of_the_whole_order_sends_no_status_email():
    # The refund's own email says how much came back (payments).
    order = order_in(S.PAID)
    deliver_queued()
    mail.outbox.clear()
    queued = Email.objects.count()

    order_transition(order=order, to=S.REFUNDED, source="test")

    assert Email.objects.count() == queued


def test_a_broken_mail_server_does_not_undo_the_change(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    order = order_in(S.PENDING_PAYMENT)

    order_transition(order=order, to=S.PAID, source="test")
    deliver_queued()  # the worker's try fails: nothing listens on port 1

    assert Order.objects.get(pk=order.pk).status == S.PAID
    email = Email.objects.get(kind="order_paid")
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    assert "ConnectionRefusedError" in email.last_error


def test_order_totals_equal_the_sum_of_the_lines():
    order = place_order([(ProductFactory(price="3.33"), 3), (ProductFactory(price="0.01"), 7)])
    assert order.lines_total() == order.subtotal == order.total - order.shipping
