"""The back office's order page: a button for each move the status table allows now, each behind
a confirmation page; staff notes on the timeline; documents; return steps."""

import pytest
from django.urls import reverse

from accounts.tests.factories import catalog_manager, order_manager
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import EventKind, Order, OrderStatus, Return
from orders.returns import return_request
from orders.services import order_transition
from orders.tests.factories import place_order
from shop.models import Email

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture
def manager(client):
    client.force_login(order_manager())
    return client


def order_in(*path, stock=10):
    product = ProductFactory(stock=stock)
    order = place_order([(product, 2)])
    for status in path:
        order_transition(order=order, to=status, source="test")
    return Order.objects.get(pk=order.pk), product


def page(client, order):
    return client.get(reverse("admin:orders_order_change", args=[order.pk]))


def move_url(order, to):
    return reverse("admin:orders_order_move", args=[order.pk, to])


@pytest.mark.parametrize(
    ("path", "buttons"),
    [
        ((), {"Cancel order"}),
        ((S.PAID,), {"Mark shipped", "Refund"}),
        ((S.PAID, S.SHIPPED), {"Mark delivered", "Refund"}),
        ((S.PAID, S.SHIPPED, S.DELIVERED), {"Refund"}),
        ((S.CANCELLED,), set()),
    ],
)
def test_the_page_offers_exactly_the_moves_the_table_allows(manager, path, buttons):
    order, _ = order_in(*path)

    offered = {label for label, _ in page(manager, order).context["order_buttons"]}

    assert offered == buttons


def test_shipping_asks_for_tracking_and_confirms_before_moving(manager):
    order, _ = order_in(S.PAID)

    confirm = manager.get(move_url(order, "shipped"))
    assert confirm.status_code == 200
    assert Order.objects.get(pk=order.pk).status == S.PAID  # the page alone changes nothing
    assert "tracking_number" in confirm.context["form"].fields
    response = manager.post(
        move_url(order, "shipped"),
        {"carrier": "DHL", "tracking_number": "JD0001", "tracking_url": "https://dhl.example/1"},
        follow=True,
    )

    saved = Order.objects.get(pk=order.pk)
    assert (saved.status, saved.carrier, saved.tracking_number) == (S.SHIPPED, "DHL", "JD0001")
    assert f"Order {order.number} is shipped." in response.content.decode()


def test_a_bad_tracking_link_is_a_400_with_the_form(manager):
    order, _ = order_in(S.PAID)

    response = manager.post(move_url(order, "shipped"), {"tracking_url": "not a link at all"})

    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).status == S.PAID


def test_cancelling_from_the_page_gives_the_reason_to_the_customer(manager):
    order, product = order_in()

    manager.post(move_url(order, "cancelled"), {"reason": "Out of stock at the supplier"})

    saved = Order.objects.get(pk=order.pk)
    assert saved.status == S.CANCELLED
    assert only_variant(product).stock == 10
    assert saved.events.last().note == "Out of stock at the supplier"
    email = Email.objects.get(kind="order_cancelled")
    assert "Out of stock at the supplier" in email.body


def test_a_move_the_table_does_not_allow_is_refused_with_a_message(manager):
    order, _ = order_in(S.PAID, S.SHIPPED, S.DELIVERED)

    response = manager.post(move_url(order, "cancelled"), follow=True)

    assert "cannot become cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == S.DELIVERED


@pytest.mark.parametrize("to", ["refunded", "paid", "nonsense"])
def test_moves_without_a_button_here_are_404(manager, to):
    order, _ = order_in()

    assert manager.get(move_url(order, to)).status_code == 404


def test_staff_notes_go_on_the_timeline_and_never_reach_the_customer(manager, client):
    order, _ = order_in()

    manager.post(
        reverse("admin:orders_order_note", args=[order.pk]), {"text": "Called the customer"}
    )

    note = order.events.get(kind=EventKind.NOTE)
    assert note.note == "Called the customer"
    assert "Called the customer" in page(manager, order).content.decode()
    client.force_login(order.user)
    assert "Called the customer" not in client.get(order.get_absolute_url()).content.decode()


def test_the_page_links_the_invoice_once_paid_and_the_packing_slip(manager):
    unpaid, _ = order_in()
    paid, _ = order_in(S.PAID)

    unpaid_page = page(manager, unpaid).content.decode()
    paid_page = page(manager, paid).content.decode()

    assert reverse("orders:invoice", args=[unpaid.number]) not in unpaid_page
    assert reverse("orders:invoice", args=[paid.number]) in paid_page
    assert reverse("orders:packing_slip", args=[paid.number]) in paid_page


def test_return_steps_from_the_order_page(manager):
    order, product = order_in(S.PAID, S.SHIPPED, S.DELIVERED)
    request_ = return_request(
        order=order, quantities={order.items.get().pk: 1}, reason="Broken on arrival"
    )
    step = lambda name: reverse(  # noqa: E731
        "admin:orders_order_return", args=[order.pk, request_.pk, name]
    )
    assert "Broken on arrival" in page(manager, order).content.decode()

    manager.post(step("approve"), {"answer": "Send it to 1 Depot Road"})
    manager.post(step("receive"), {})  # the box left unticked: not fit to sell again

    saved = Return.objects.get()
    assert (saved.status, saved.answer, saved.restocked) == (
        "received",
        "Send it to 1 Depot Road",
        False,
    )
    assert only_variant(product).stock == 8


def test_only_order_managers_use_the_buttons(client):
    order, _ = order_in(S.PAID)
    client.force_login(catalog_manager())

    assert client.post(move_url(order, "shipped")).status_code == 403
    assert client.post(reverse("admin:orders_order_note", args=[order.pk])).status_code == 403
    assert Order.objects.get(pk=order.pk).status == S.PAID
