"""The refund page: lines or an amount, the amount stated on a confirmation page before it is
sent; from a received return; and the list's bulk refund behind its own confirmation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import catalog_manager, order_manager
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderStatus
from orders.returns import return_approve, return_receive, return_request
from orders.services import order_transition
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus, Refund, RefundSource
from payments.tests.factories import refund
from shop.models import Email

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture(autouse=True)
def local(settings):
    settings.PAYMENT_BACKEND = "local"  # the stand-in answers a refund at once


def paid_order(*path):
    lamp = ProductFactory(name="Lamp", price=Decimal("20.00"), stock=10)
    order = place_order([(lamp, 2)])
    Payment.objects.create(
        order=order, attempt=1, provider="local", session_id=f"cs_{order.number}",
        status=PaymentStatus.PAID, amount=order.total, currency=order.currency,
        amount_minor=int(order.total * 100), payment_intent=f"pi_{order.number}",
    )  # fmt: skip
    for status in (S.PAID, *path):
        order_transition(order=order, to=status, source="test")
    return Order.objects.get(pk=order.pk), lamp


@pytest.fixture
def manager(client):
    client.force_login(order_manager())
    return client


def url(order, **query):
    base = reverse("admin:orders_order_refund", args=[order.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_refund_of_one_line_is_stated_then_sent_when_confirmed(
    manager, django_capture_on_commit_callbacks
):
    order, lamp = paid_order()
    item = order.items.get()
    data = {f"quantity-{item.pk}": "1", "amount": "", "reason": "Arrived dented", "restock": "on"}

    review = manager.post(url(order), data)

    assert review.status_code == 200
    assert "Refund $20.00 to the customer" in review.content.decode()
    assert not Refund.objects.exists()  # nothing sent from the review
    with django_capture_on_commit_callbacks(execute=True):
        done = manager.post(url(order), {**data, "step": "send"}, follow=True)

    refund = Refund.objects.get()
    assert (refund.amount, refund.state, refund.restock) == (Decimal("20.00"), "succeeded", True)
    assert refund.lines.get().quantity == 1
    assert only_variant(lamp).stock == 9  # 10 - 2 sold + 1 back
    assert "20.00 USD" in done.content.decode()  # the message names the amount
    assert Order.objects.get(pk=order.pk).status == S.PAID  # partial: as it was
    email = Email.objects.get(kind="order_refund_issued")
    assert "$20.00" in email.body


def test_shipping_is_refunded_as_an_amount_and_the_rest_makes_the_order_refunded(
    manager, django_capture_on_commit_callbacks
):
    order, _ = paid_order(S.SHIPPED)

    with django_capture_on_commit_callbacks(execute=True):
        manager.post(url(order), {"amount": str(order.total), "reason": "Lost", "step": "send"})

    assert Order.objects.get(pk=order.pk).status == S.REFUNDED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "x"}, "Choose the lines to refund, or an amount."),
        ({"amount": "999", "reason": "x"}, "At most $45.00 can still be refunded."),
        ({"amount": "1.005", "reason": "x"}, "more decimals"),
        ({"amount": "5"}, "This field is required."),
    ],
)
def test_a_refund_that_cannot_be_made_is_a_400_with_the_reason(manager, data, message):
    order, _ = paid_order()

    response = manager.post(url(order), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Refund.objects.exists()


def test_a_received_return_fills_in_its_items_without_restocking_them_again(
    manager, django_capture_on_commit_callbacks
):
    order, lamp = paid_order(S.SHIPPED, S.DELIVERED)
    staff = order_manager()
    request_ = return_request(order=order, quantities={order.items.get().pk: 1}, reason="Too dim")
    return_approve(request=request_, actor=staff)
    return_receive(request=request_, actor=staff, restock=True)
    stock = only_variant(lamp).stock
    page = manager.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert f"?return={request_.pk}" in page.content.decode()

    form = manager.get(url(order, **{"return": request_.pk})).context["form"]
    assert form.initial[f"quantity-{order.items.get().pk}"] == 1
    assert form.initial["restock"] is False
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(
            url(order),
            {f"quantity-{order.items.get().pk}": "1", "reason": form.initial["reason"],
             "return": request_.pk, "step": "send"},
        )  # fmt: skip

    refund = Refund.objects.get()
    assert (refund.source, refund.amount) == (RefundSource.RETURN, Decimal("20.00"))
    assert only_variant(lamp).stock == stock  # restocked once, when received


def test_the_bulk_refund_states_each_amount_before_sending(manager):
    order, _ = paid_order()

    page = manager.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund", "_selected_action": [order.pk]},
    )

    assert page.status_code == 200
    assert "$45.00 of $45.00" in page.content.decode()
    assert not Refund.objects.exists()


def test_only_order_managers_refund(client):
    order, _ = paid_order()
    client.force_login(catalog_manager())

    assert (
        client.post(url(order), {"amount": "5", "reason": "x", "step": "send"}).status_code == 403
    )
    assert not Refund.objects.exists()


def test_orders_refunded_before_refund_records_get_one_for_the_reports():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("payments.migrations.0007_refunds_of_refunded_orders")
    order, _ = paid_order()
    Payment.objects.filter(order=order).update(status=PaymentStatus.REFUNDED)
    order_transition(order=order, to=S.REFUNDED, source="test")  # as the old path did
    kept, _ = paid_order()

    migration.record_past_refunds(apps, None)
    migration.record_past_refunds(apps, None)  # a second run adds nothing

    refund = Refund.objects.get()
    assert (refund.order, refund.amount, refund.state) == (order, order.total, "succeeded")
    assert refund.updated == order.events.get(to_status=S.REFUNDED).created
    assert not kept.refunds.exists()


def test_the_customer_sees_what_was_refunded_on_the_order_page(client):
    order, _ = paid_order()
    client.force_login(order.user)
    assert "Refunded to you" not in client.get(order.get_absolute_url()).content.decode()
    refund(order, amount=Decimal("7.50"))
    failed = refund(order, amount=Decimal("1.00"))
    Refund.objects.filter(pk=failed.pk).update(state="failed")  # a failed one gave nothing back

    html = client.get(order.get_absolute_url()).content.decode()

    assert "Refunded to you" in html
    assert "−$7.50" in html
