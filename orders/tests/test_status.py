"""The status table (orders/status.py): complete, consistent, and the only place pages, emails
and revenue learn what a status means."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template

from catalog.tests.factories import ProductFactory
from orders.emails import SUBJECTS
from orders.models import PAID_STATUSES, Order, OrderStatus
from orders.status import STATUSES, state_of
from orders.tests.factories import place_order

S = OrderStatus
TONES = {"pending", "good", "bad", "neutral"}


def test_every_status_has_one_row_and_moves_only_to_statuses():
    assert set(STATUSES) == set(S)
    for status, state in STATUSES.items():
        assert state.status == status
        assert state.moves <= set(S)
        assert status not in state.moves
        assert state.shopper_label
        assert state.tone in TONES


def test_only_terminal_statuses_give_stock_back_so_it_happens_once():
    for state in STATUSES.values():
        if state.restocks:
            assert state.terminal
            # Reached only from a status whose order still holds its stock and is unpaid.
            sources = [s for s in STATUSES.values() if state.status in s.moves]
            assert sources
            assert all(source.awaits_payment for source in sources)


def test_every_email_a_status_sends_has_a_subject_and_a_template():
    kinds = {state.email for state in STATUSES.values() if state.email}
    assert kinds >= {"placed", "paid", "shipped", "cancelled"}
    for kind in kinds:
        assert kind in SUBJECTS
        get_template(f"orders/email/{kind}.txt")


def test_revenue_is_the_statuses_the_table_says_hold_the_money():
    assert set(PAID_STATUSES) == {s for s, state in STATUSES.items() if state.revenue}
    assert set(PAID_STATUSES) == {S.PAID, S.SHIPPED, S.DELIVERED}


@pytest.mark.django_db
def test_an_order_reads_what_it_may_do_from_the_table():
    order = place_order([(ProductFactory(stock=5), 1)])
    assert order.state == state_of("pending_payment")
    assert (order.can_be_cancelled_by_customer, order.can_be_put_back_in_cart) == (True, False)
    for status in (S.PAYMENT_FAILED, S.CANCELLED):
        Order.objects.filter(pk=order.pk).update(status=status)
        order.refresh_from_db()
        assert (order.can_be_cancelled_by_customer, order.can_be_put_back_in_cart) == (False, True)
    assert order.return_heading == f"Order {order.number} is cancelled"


def test_no_template_compares_order_status_strings():
    pattern = re.compile(r"order\.status\s*(==|!=|in\b)|order\.get_status_display")
    offenders = [
        f"{path}:{number}"
        for directory in settings.TEMPLATES[0]["DIRS"]
        for path in Path(directory).rglob("*.*")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_every_coloured_tone_has_its_style():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "shop.css").read_text()
    for tone in {state.tone for state in STATUSES.values()} - {"pending", "neutral"}:
        assert f".status--{tone} " in css
