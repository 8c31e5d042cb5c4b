"""Returns: asked from a delivered order within the window, approved or refused, received with
or without restocking; each step on the timeline and emailed; never more than was bought."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import order_manager
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import EventKind, Order, OrderStatus, Return, ReturnStatus
from orders.returns import (
    ReturnRefused,
    return_approve,
    return_receive,
    return_refuse,
    return_request,
)
from orders.services import order_transition
from orders.tests.factories import place_order
from shop.models import Email

pytestmark = pytest.mark.django_db

S, R = OrderStatus, ReturnStatus


def delivered(quantity=3, stock=10, user=None):
    product = ProductFactory(stock=stock)
    order = place_order([(product, quantity)], user)
    for status in (S.PAID, S.SHIPPED, S.DELIVERED):
        order_transition(order=order, to=status, source="test")
    return Order.objects.get(pk=order.pk), product


def item_of(order):
    return order.items.get()


def ask(order, quantity=1, reason="Too small"):
    return return_request(order=order, quantities={item_of(order).pk: quantity}, reason=reason)


def test_a_return_goes_from_request_to_received_and_restocks_when_told():
    order, product = delivered()
    staff = order_manager()
    stock = only_variant(product).stock

    request = ask(order, 2)
    return_approve(request=request, actor=staff, answer="Send them to our warehouse")
    return_receive(request=request, actor=staff, restock=True)

    request.refresh_from_db()
    assert request.status == R.RECEIVED
    assert request.restocked is True
    assert (request.decided_at is not None, request.received_at is not None) == (True, True)
    assert only_variant(product).stock == stock + 2
    steps = list(order.events.filter(kind=EventKind.RETURN).values_list("note", flat=True))
    assert [step.split(":")[0] for step in steps] == [
        "Return requested",
        "Return approved",
        "Returned items received",
    ]
    assert "Send them to our warehouse" in steps[1]
    kinds = list(Email.objects.filter(reference=order.number).values_list("kind", flat=True))
    for kind in ("return_requested", "return_approved", "return_received"):
        assert f"order_{kind}" in kinds
    approved = Email.objects.get(kind="order_return_approved")
    assert "Send them to our warehouse" in approved.body
    assert "Send them to our warehouse" in approved.html_body
    assert "2 × " in approved.body
    assert Order.objects.get(pk=order.pk).status == S.DELIVERED  # money is a refund's business


def test_items_received_unfit_to_sell_stay_off_sale():
    order, product = delivered()
    staff = order_manager()
    stock = only_variant(product).stock
    request = ask(order)
    return_approve(request=request, actor=staff)

    return_receive(request=request, actor=staff, restock=False)

    assert only_variant(product).stock == stock
    assert Return.objects.get().restocked is False


def test_a_refused_return_says_why_and_frees_its_items_for_another_request():
    order, _ = delivered(quantity=1)
    request = ask(order)

    with pytest.raises(ReturnRefused, match="Say why"):
        return_refuse(request=request, actor=order_manager(), answer=" ")
    return_refuse(request=request, actor=order_manager(), answer="Worn")

    assert Return.objects.get().status == R.REFUSED
    assert ask(order).status == R.REQUESTED  # the one item may be asked again


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda r, s: return_receive(request=r, actor=s, restock=True), "cannot become items"),
        (
            lambda r, s: return_approve(request=return_approve(request=r, actor=s), actor=s),
            "approved",
        ),
    ],
    ids=["received-before-approved", "approved-twice"],
)
def test_a_step_out_of_order_is_refused(step, message):
    order, _ = delivered()
    request = ask(order)

    with pytest.raises(ReturnRefused, match=message):
        step(request, order_manager())


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda o: Order.objects.filter(pk=o.pk).update(status=S.SHIPPED), "Only a delivered"),
        (
            lambda o: Order.objects.filter(pk=o.pk).update(
                delivered_at=timezone.now() - timedelta(days=31)
            ),
            "Returns close 30 days after delivery",
        ),
    ],
    ids=["not-delivered", "window-closed"],
)
def test_a_return_is_only_for_a_delivered_order_within_the_window(settings, setup, message):
    settings.RETURN_WINDOW_DAYS = 30
    order, _ = delivered()
    setup(order)

    with pytest.raises(ReturnRefused, match=message):
        ask(Order.objects.get(pk=order.pk))
    assert not Return.objects.exists()


def test_never_more_than_was_bought_over_several_requests():
    order, _ = delivered(quantity=3)
    ask(order, 2)

    with pytest.raises(ReturnRefused, match="at most 1"):
        ask(order, 2)
    with pytest.raises(ReturnRefused, match="at least one"):
        ask(order, 0)
    with pytest.raises(ReturnRefused, match="why"):
        ask(order, 1, reason="  ")
    other, _ = delivered()
    with pytest.raises(ReturnRefused, match="not part of this order"):
        return_request(order=order, quantities={item_of(other).pk: 1}, reason="x")
    assert Return.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_cannot_return_one_item_twice():
    order, _ = delivered(quantity=1)
    barrier = threading.Barrier(2)
    outcomes = []

    def request():
        try:
            barrier.wait(timeout=10)
            ask(order)
            outcomes.append("asked")
        except ReturnRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["asked", "refused"]
    assert Return.objects.count() == 1


# The shopper's page.


def test_the_shopper_asks_for_a_return_from_the_order_page(client):
    order, _ = delivered(quantity=2)
    client.force_login(order.user)
    url = reverse("orders:return", args=[order.number])
    assert url in client.get(order.get_absolute_url()).content.decode()

    response = client.post(url, {f"quantity-{item_of(order).pk}": "2", "reason": "Too big"})

    assert response.status_code == 302
    request = Return.objects.get()
    assert (request.reason, request.lines.get().quantity) == ("Too big", 2)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Requested" in page
    assert url not in page  # nothing left to return: no button


@pytest.mark.parametrize(
    ("quantity", "reason", "message"),
    [
        ("5", "Too big", "Choose from 0 to 2"),
        ("x", "Too big", "Choose from 0 to 2"),
        ("0", "Too big", "Choose at least one item"),
        ("1", "", "Tell us why"),
        ("1", "y" * 1001, "under 1000 characters"),
    ],
)
def test_bad_return_forms_are_a_400_with_the_reason(client, quantity, reason, message):
    order, _ = delivered(quantity=2)
    client.force_login(order.user)

    response = client.post(
        reverse("orders:return", args=[order.number]),
        {f"quantity-{item_of(order).pk}": quantity, "reason": reason},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Return.objects.exists()


def test_another_shoppers_order_cannot_be_returned(client):
    order, _ = delivered()
    other, _ = delivered()
    client.force_login(other.user)

    response = client.get(reverse("orders:return", args=[order.number]))

    assert response.status_code == 404


def test_an_order_not_delivered_sends_the_shopper_back_with_a_message(client):
    order = place_order([(ProductFactory(stock=5), 1)])
    client.force_login(order.user)

    response = client.get(reverse("orders:return", args=[order.number]), follow=True)

    assert "cannot be returned" in response.content.decode()
