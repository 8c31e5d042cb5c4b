"""`release_unpaid_orders`, `reconcile_payments` and staff refunds against the Stripe API double."""

import threading
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory, order_manager
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus, Refund


def age(order, minutes):
    Order.objects.filter(pk=order.pk).update(created=timezone.now() - timedelta(minutes=minutes))


def start_payment(order):
    client = Client()
    client.force_login(order.user)
    client.post(reverse("payments:start", args=[order.number]))


@pytest.mark.django_db
def test_release_cancels_stale_unpaid_orders_expiring_their_session_first(stripe_api):
    product = ProductFactory(stock=10)
    stale = place_order([(product, 3)])
    start_payment(stale)
    fresh = place_order([(product, 1)])
    paid = place_order([(product, 2)])
    order_transition(order=paid, to=OrderStatus.PAID, source="test")
    for order in (stale, paid):
        age(order, 120)
    out = StringIO()

    call_command("release_unpaid_orders", "--older-than", "60", stdout=out)

    assert Order.objects.get(pk=stale.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.PENDING_PAYMENT
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert only_variant(product).stock == 10 - 1 - 2
    session_id = Payment.objects.get(order=stale).session_id
    assert stripe_api.sessions[session_id]["status"] == "expired"
    assert f"Cancelled 1 unpaid order(s): {stale.number}" in out.getvalue()


@pytest.mark.django_db
def test_release_dry_run_changes_nothing(stripe_api):
    order = place_order([(ProductFactory(stock=5), 1)])
    age(order, 120)
    out = StringIO()
    call_command("release_unpaid_orders", "--older-than", "60", "--dry-run", stdout=out)
    assert "Would cancel 1" in out.getvalue()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


@pytest.mark.django_db(transaction=True)
def test_two_releases_at_once_give_stock_back_once(stripe_api):
    product = ProductFactory(stock=20)
    orders = [place_order([(product, 2)]) for _ in range(4)]
    for order in orders:
        age(order, 120)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            call_command("release_unpaid_orders", "--older-than", "60", stdout=StringIO())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    assert only_variant(product).stock == 20
    for order in orders:
        assert order.events.filter(to_status="cancelled").count() == 1


# Committed for real: the provider is asked as the action's refund commits.
@pytest.mark.django_db(transaction=True)
def test_staff_refund_calls_the_api_and_the_webhook_finishes_it(client, stripe_api, deliver):
    order = place_order([(ProductFactory(stock=5), 1)])
    start_payment(order)
    session = stripe_api.complete(order.payments.get().session_id)
    deliver("checkout.session.completed", session)
    client.force_login(order_manager())
    stripe_api.refund_status = "pending"  # the bank takes its time

    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund", "_selected_action": [order.pk], "confirmed": "yes"},
        follow=True,
    )

    [call] = stripe_api.calls("POST", "/v1/refunds")
    refund = Refund.objects.get()
    assert call["form"]["payment_intent"] == session["payment_intent"]
    assert call["form"]["amount"] == str(session["amount_total"])
    assert call["headers"]["Idempotency-Key"] == f"refund-{refund.pk}"
    assert "shows as refunded once the payment service confirms" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert (refund.state, refund.amount, refund.source) == ("pending", order.total, "back office")

    stripe_api.settle(refund.provider_refund_id, "succeeded")
    client.logout()
    deliver("charge.refunded", stripe_api.charge(session["payment_intent"]))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert Refund.objects.get().state == "succeeded"
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


@pytest.mark.django_db
def test_refund_of_an_unpaid_order_is_refused(client, stripe_api):
    order = place_order([(ProductFactory(stock=5), 1)])
    client.force_login(order_manager())
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund", "_selected_action": [order.pk], "confirmed": "yes"},
        follow=True,
    )
    assert "is awaiting payment and cannot be refunded" in response.content.decode()
    assert not stripe_api.calls("POST", "/v1/refunds")


@pytest.mark.django_db
def test_catalog_managers_cannot_refund(client, stripe_api):
    from accounts.tests.factories import catalog_manager

    order = place_order([(ProductFactory(stock=5), 1)])
    client.force_login(catalog_manager())
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund", "_selected_action": [order.pk], "confirmed": "yes"},
    )
    assert response.status_code == 403
    assert not stripe_api.calls("POST", "/v1/refunds")


@pytest.mark.django_db
def test_order_managers_see_payments_on_the_order(client, stripe_api):
    order = place_order([(ProductFactory(stock=5), 1)], user=UserFactory())
    start_payment(order)
    client.force_login(order_manager())
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert order.payments.get().session_id in html


def paid_order(stripe_api, deliver):
    order = place_order([(ProductFactory(stock=5), 1)])
    start_payment(order)
    session = stripe_api.complete(order.payments.get().session_id)
    deliver("checkout.session.completed", session)
    return order, session


def run_action(client, action, order):
    return client.post(
        reverse("admin:orders_order_changelist"),
        {"action": action, "_selected_action": [order.pk], "confirmed": "yes"},
        follow=True,
    )


@pytest.mark.django_db
def test_an_order_whose_refund_is_pending_cannot_be_shipped(
    client, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, session = paid_order(stripe_api, deliver)
    client.force_login(order_manager())
    stripe_api.refund_status = "pending"
    with django_capture_on_commit_callbacks(execute=True):
        run_action(client, "refund", order)

    response = run_action(client, "mark_shipped", order)

    assert "has a refund on its way and cannot be shipped" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    [refund] = stripe_api.refunds
    stripe_api.settle(refund["id"], "succeeded")
    deliver("charge.refunded", stripe_api.charge(session["payment_intent"]))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


# Committed for real: the provider is asked as the action's refund commits.
@pytest.mark.django_db(transaction=True)
def test_a_shipped_order_is_refunded_by_the_refund_action(client, stripe_api, deliver):
    order, session = paid_order(stripe_api, deliver)
    client.force_login(order_manager())
    run_action(client, "mark_shipped", order)

    response = run_action(client, "refund", order)

    assert f"Order {order.number} is refunded." in response.content.decode()
    [call] = stripe_api.calls("POST", "/v1/refunds")
    assert call["form"]["amount"] == str(session["amount_total"])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


@pytest.mark.django_db
def test_an_automatic_refund_of_a_second_payment_does_not_stop_shipping(
    client, stripe_api, deliver
):
    order, _ = paid_order(stripe_api, deliver)
    # A second payment for the same order (another session paid too) is refunded by itself.
    Payment.objects.create(order=order, provider="stripe", attempt=2, session_id="cs_second",
                           status=PaymentStatus.REFUND_PENDING, amount=order.total,
                           amount_minor=100, currency=order.currency,
                           refund_reason="order was paid when this payment arrived")  # fmt: skip
    client.force_login(order_manager())

    run_action(client, "mark_shipped", order)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


@pytest.mark.django_db
def test_release_cancels_an_order_whose_payment_start_never_finished(stripe_api):
    product = ProductFactory(stock=5)
    order = place_order([(product, 2)])
    stripe_api.drop_next_answer()  # the worker starting payment never heard back
    start_payment(order)
    assert order.payments.get().status == PaymentStatus.STARTING
    age(order, 120)

    call_command("release_unpaid_orders", "--older-than", "60", stdout=StringIO())

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert only_variant(product).stock == 5
    assert order.payments.get().status == PaymentStatus.EXPIRED


@pytest.mark.django_db
def test_reconcile_sends_the_refund_of_a_mismatched_payment_that_failed(
    stripe_api, deliver, django_capture_on_commit_callbacks
):
    order = place_order([(ProductFactory(stock=5), 1)])
    start_payment(order)
    session = stripe_api.complete(order.payments.get().session_id)
    stripe_api.fail_next(status=500)  # the automatic refund right after the webhook fails
    with django_capture_on_commit_callbacks(execute=True):
        deliver("checkout.session.completed", {**session, "amount_total": 1})
    assert not stripe_api.refunds

    call_command("reconcile_payments", stdout=StringIO())

    [refund] = stripe_api.refunds
    assert refund["payment_intent"] == session["payment_intent"]


def stale_orders_with_sessions(count, product):
    """Orders awaiting payment with an open session each, oldest first, placed 2 hours ago."""
    orders = []
    for index in range(count):
        order = place_order([(product, 1)])
        start_payment(order)
        age(order, 130 - index)
        orders.append(order)
    return orders


@pytest.mark.django_db
def test_release_carries_on_past_orders_it_cannot_release_and_exits_non_zero(slow_stripe, caplog):
    product = ProductFactory(stock=10)
    garbled, stuck, fine = stale_orders_with_sessions(3, product)
    garbled_session = garbled.payments.get().session_id
    # Stripe answers with something the store cannot read, then hangs on the next order.
    slow_stripe.sessions[garbled_session]["amount_total"] = "lots"
    slow_stripe.hang(30, path=f"/{stuck.payments.get().session_id}/expire")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="2 order"):
        call_command("release_unpaid_orders", "--older-than", "60", stdout=out, stderr=err)

    assert Order.objects.get(pk=fine.pk).status == OrderStatus.CANCELLED
    for order in (garbled, stuck):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert only_variant(product).stock == 10 - 2
    assert f"Cancelled 1 unpaid order(s): {fine.number}" in out.getvalue()
    assert f"Not released {garbled.number}: amount_total" in err.getvalue()
    assert f"Not released {stuck.number}: payment service:" in err.getvalue()
    failures = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(garbled.number in message for message in failures)
    assert any(stuck.number in message for message in failures)

    # Stripe is back: the next run releases the rest.
    slow_stripe.release()
    slow_stripe.sessions[garbled_session]["amount_total"] = 1
    call_command("release_unpaid_orders", "--older-than", "60", stdout=StringIO())
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    assert only_variant(product).stock == 10


@pytest.mark.django_db
def test_release_reports_orders_it_skips_for_a_good_reason(stripe_api):
    paid_meanwhile = place_order([(ProductFactory(stock=5), 1)])
    start_payment(paid_meanwhile)
    stripe_api.complete(paid_meanwhile.payments.get().session_id)
    age(paid_meanwhile, 120)
    out = StringIO()

    call_command("release_unpaid_orders", "--older-than", "60", stdout=out)

    assert f"Skipped {paid_meanwhile.number}: " in out.getvalue()
    assert "has just been paid" in out.getvalue()


@pytest.mark.django_db
def test_reconcile_carries_on_past_payments_it_cannot_check_and_exits_non_zero(slow_stripe, caplog):
    product = ProductFactory(stock=10)
    garbled, stuck, paid = stale_orders_with_sessions(3, product)
    sessions = {o: o.payments.get().session_id for o in (garbled, stuck, paid)}
    for minutes, order in enumerate((paid, stuck, garbled)):  # garbled is asked about first
        order.payments.update(created=timezone.now() - timedelta(minutes=30 + minutes))
    slow_stripe.sessions[sessions[garbled]]["status"] = ["not", "text"]
    slow_stripe.hang(30, path=sessions[stuck])
    slow_stripe.complete(sessions[paid])
    refund_due = Payment.objects.create(
        order=place_order([(product, 1)]), provider="stripe", attempt=1, session_id="cs_refund",
        payment_intent="pi_refund", status=PaymentStatus.REFUND_PENDING,
        amount=Decimal("1.00"), amount_minor=100, currency="USD",
        refund_reason="order was cancelled when this payment arrived",
    )  # fmt: skip
    slow_stripe.fail_next(status=500, path="/v1/refunds")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="3 payment"):
        call_command("reconcile_payments", stdout=out, stderr=err)

    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert f"{sessions[paid]}: order {paid.number} paid" in out.getvalue()
    assert f"Failed {sessions[garbled]} (order {garbled.number}): status" in err.getvalue()
    assert f"Failed {sessions[stuck]} (order {stuck.number}): payment service:" in err.getvalue()
    assert f"Failed cs_refund (order {refund_due.order.number})" in err.getvalue()
    failures = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    for order in (garbled, stuck, refund_due.order):
        assert any(order.number in message for message in failures)
