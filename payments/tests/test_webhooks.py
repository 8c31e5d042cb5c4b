"""The Stripe webhook with events signed the real way: every event, every way it can go wrong."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus, WebhookEvent
from payments.tests.conftest import WEBHOOK, signed_event
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(client, shopper, stripe_api):
    """An order of 2 (stock 10 -> 8) with an open Checkout Session."""

    def make(quantity=2):
        product = ProductFactory(stock=10)
        order = place_order([(product, quantity)], user=shopper)
        client.post(reverse("payments:start", args=[order.number]))
        payment = order.payments.get()
        return order, product, stripe_api.sessions[payment.session_id]

    return make


def status(order):
    return Order.objects.get(pk=order.pk).status


def stock(product):
    return only_variant(product).stock


def test_completed_and_paid_marks_the_order_paid(checkout, stripe_api, deliver):
    order, product, session = checkout()
    stripe_api.complete(session["id"])

    response = deliver("checkout.session.completed", session)

    assert response.status_code == 200
    assert status(order) == OrderStatus.PAID
    assert stock(product) == 8
    payment = Payment.objects.get()
    assert (payment.status, payment.payment_intent) == ("paid", f"pi_{session['id']}")
    event = WebhookEvent.objects.get()
    assert (event.type, event.object_id) == ("checkout.session.completed", session["id"])
    assert event.processed is not None
    assert f"order {order.number} paid" in event.outcome
    assert Order.objects.get(pk=order.pk).events.last().source == "payment provider"


def test_paid_email_goes_out(checkout, stripe_api, deliver):
    _, _, session = checkout()
    stripe_api.complete(session["id"])
    deliver("checkout.session.completed", session)
    deliver_queued()  # what the outbox's worker does
    assert any("Payment received" in m.subject for m in mail.outbox)


def test_unpaid_then_async_succeeded(checkout, stripe_api, deliver):
    order, _, session = checkout()
    stripe_api.complete(session["id"], payment_status="unpaid")

    deliver("checkout.session.completed", session)
    assert status(order) == OrderStatus.PENDING_PAYMENT

    session["payment_status"] = "paid"
    deliver("checkout.session.async_payment_succeeded", session)
    assert status(order) == OrderStatus.PAID


def test_async_payment_failed_gives_stock_back(checkout, stripe_api, deliver):
    order, product, session = checkout()
    stripe_api.complete(session["id"], payment_status="unpaid")

    deliver("checkout.session.async_payment_failed", session)

    assert status(order) == OrderStatus.PAYMENT_FAILED
    assert stock(product) == 10
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_expired_cancels_the_order_and_gives_stock_back(checkout, deliver):
    order, product, session = checkout()
    session["status"] = "expired"

    deliver("checkout.session.expired", session)

    assert status(order) == OrderStatus.CANCELLED
    assert stock(product) == 10
    assert "expired" in Order.objects.get(pk=order.pk).events.last().note


def test_an_expired_old_session_leaves_an_order_with_a_newer_one(client, checkout, deliver):
    order, product, first = checkout()
    Payment.objects.filter(session_id=first["id"]).update(expires_at=timezone.now())
    client.post(reverse("payments:start", args=[order.number]))  # a second attempt
    assert order.payments.count() == 2

    deliver("checkout.session.expired", {**first, "status": "expired"})

    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert stock(product) == 8


def test_refunded_marks_a_refunded_order(checkout, stripe_api, deliver):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    deliver("checkout.session.completed", session)

    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": f"pi_{session['id']}",
        "amount": session["amount_total"],
        "amount_refunded": session["amount_total"],
    }
    deliver("charge.refunded", charge)

    assert status(order) == OrderStatus.REFUNDED
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


def test_a_partial_refund_is_recorded_without_changing_the_order(checkout, stripe_api, deliver):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    deliver("checkout.session.completed", session)
    charge = {"id": "ch_1", "payment_intent": f"pi_{session['id']}",
              "amount": session["amount_total"], "amount_refunded": 100}  # fmt: skip

    deliver("charge.refunded", charge)

    assert status(order) == OrderStatus.PAID
    assert "partial refund" in WebhookEvent.objects.get(type="charge.refunded").outcome


def test_a_duplicate_delivery_is_answered_without_acting(checkout, stripe_api, deliver):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    deliver("checkout.session.completed", session, event_id="evt_same")

    again = deliver("checkout.session.completed", session, event_id="evt_same")

    assert again.status_code == 200
    assert "duplicate" in again.content.decode()
    assert WebhookEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(to_status="paid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_acts_once(stripe_api, settings):
    user = UserFactory()
    product = ProductFactory(stock=10)
    order = place_order([(product, 2)], user=user)
    shopper = Client()
    shopper.force_login(user)
    shopper.post(reverse("payments:start", args=[order.number]))
    session = stripe_api.complete(order.payments.get().session_id)
    body, header = signed_event(
        "checkout.session.completed",
        session,
        secret=settings.STRIPE_WEBHOOK_SECRET,
        event_id="evt_racing",
    )
    barrier = threading.Barrier(6)
    statuses = []

    def deliver_once():
        try:
            barrier.wait()
            response = Client().post(
                WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * 6
    assert WebhookEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(to_status="paid").count() == 1
    assert status(order) == OrderStatus.PAID


def test_a_late_expired_after_completed_changes_nothing(checkout, stripe_api, deliver):
    order, product, session = checkout()
    stripe_api.complete(session["id"])
    deliver("checkout.session.completed", session)

    response = deliver("checkout.session.expired", {**session, "status": "expired"})

    assert response.status_code == 200
    assert status(order) == OrderStatus.PAID
    assert stock(product) == 8


def test_payment_completed_for_a_cancelled_order_is_refunded_automatically(
    client, checkout, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, product, session = checkout()
    # Cancelled while the shopper was paying: the expiry came too late to stop the payment.
    Payment.objects.filter(session_id=session["id"]).update(status=PaymentStatus.EXPIRED)
    order_transition(order=order, to=OrderStatus.CANCELLED, source="test")
    stripe_api.complete(session["id"])

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver("checkout.session.completed", session)

    assert response.status_code == 200
    assert status(order) == OrderStatus.CANCELLED
    assert stock(product) == 10
    [refund_call] = stripe_api.calls("POST", "/v1/refunds")
    assert refund_call["form"]["payment_intent"] == f"pi_{session['id']}"
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REFUND_PENDING
    assert "cancelled" in payment.refund_reason
    page = client.get(order.get_absolute_url()).content.decode()
    assert "refunded automatically" in page


def test_a_second_session_paid_for_a_paid_order_is_refunded(
    client, checkout, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, _, first = checkout()
    Payment.objects.filter(session_id=first["id"]).update(expires_at=timezone.now())
    client.post(reverse("payments:start", args=[order.number]))
    second = stripe_api.sessions[order.payments.get(attempt=2).session_id]
    stripe_api.complete(first["id"])
    stripe_api.complete(second["id"])

    with django_capture_on_commit_callbacks(execute=True):
        deliver("checkout.session.completed", first)
        deliver("checkout.session.completed", second)

    assert status(order) == OrderStatus.PAID
    assert [r["form"]["payment_intent"] for r in stripe_api.calls("POST", "/v1/refunds")] == [
        f"pi_{second['id']}"
    ]


def test_a_mismatched_payment_is_refunded_automatically_and_the_shopper_is_told(
    client, checkout, stripe_api, deliver, caplog, django_capture_on_commit_callbacks
):
    order, product, session = checkout()
    stripe_api.complete(session["id"])

    with django_capture_on_commit_callbacks(execute=True):
        short = {**session, "amount_total": session["amount_total"] - 1}
        deliver("checkout.session.completed", short)

    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert stock(product) == 8
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REFUND_PENDING
    assert "did not match" in payment.refund_reason
    [refund_call] = stripe_api.calls("POST", "/v1/refunds")
    assert refund_call["form"]["payment_intent"] == f"pi_{session['id']}"
    assert "mismatch" in WebhookEvent.objects.get().outcome
    assert any(r.levelname == "ERROR" and order.number in r.getMessage() for r in caplog.records)
    success = client.get(reverse("payments:success"), {"session_id": session["id"]})
    assert "Your payment is being refunded" in success.content.decode()
    assert "did not match" in client.get(order.get_absolute_url()).content.decode()


def test_a_currency_mismatch_is_refunded_too(
    checkout, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        deliver("checkout.session.completed", {**session, "currency": "eur"})
    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert Payment.objects.get().status == PaymentStatus.REFUND_PENDING
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1


def test_a_mismatched_payment_is_compared_with_what_was_sent_not_recomputed(
    checkout, stripe_api, deliver
):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    # The session's amount is what the payment asked for: it is paid, whatever the order says.
    Payment.objects.update(amount_minor=session["amount_total"] + 7)
    deliver("checkout.session.completed", session)
    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert Payment.objects.get().status == PaymentStatus.REFUND_PENDING


def test_after_a_refunded_mismatch_the_order_can_be_paid_again(
    client, checkout, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        deliver("checkout.session.completed", {**session, "amount_total": 1})

    again = client.post(reverse("payments:start", args=[order.number]))

    second = order.payments.get(attempt=2)
    assert again["Location"] == second.url
    stripe_api.complete(second.session_id)
    deliver("checkout.session.completed", stripe_api.sessions[second.session_id])
    assert status(order) == OrderStatus.PAID


@pytest.mark.parametrize(
    ("session_status", "payment_status"),
    [("open", "paid"), ("expired", "paid"), ("complete", "processing"), ("complete", "")],
)
def test_a_session_counts_as_paid_only_when_complete_and_paid(
    checkout, stripe_api, deliver, session_status, payment_status
):
    order, _, session = checkout()
    reported = {**session, "status": session_status, "payment_status": payment_status,
                "payment_intent": f"pi_{session['id']}"}  # fmt: skip

    for kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        assert deliver(kind, reported).status_code == 200

    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert Payment.objects.get().status == PaymentStatus.OPEN
    assert not stripe_api.calls("POST", "/v1/refunds")


def test_a_webhook_after_the_success_page_applied_the_payment_changes_nothing(
    client, checkout, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    client.get(reverse("payments:success"), {"session_id": session["id"]})
    assert status(order) == OrderStatus.PAID

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver("checkout.session.completed", session)

    assert response.status_code == 200
    assert "already applied" in WebhookEvent.objects.get().outcome
    assert status(order) == OrderStatus.PAID
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert not stripe_api.calls("POST", "/v1/refunds")
    assert Order.objects.get(pk=order.pk).events.filter(to_status="paid").count() == 1


def test_the_success_page_asks_the_provider_at_most_once_in_a_few_seconds(
    client, checkout, stripe_api
):
    _, _, session = checkout()
    path = f"/v1/checkout/sessions/{session['id']}"

    for _ in range(5):
        page = client.get(reverse("payments:success"), {"session_id": session["id"]})
        assert "Confirming your payment" in page.content.decode()

    assert len(stripe_api.calls("GET", path)) == 1


@pytest.mark.parametrize("session_id", ["", "x" * 300, "cs_\x00nul", "cs test", "../x"])
def test_the_success_page_refuses_odd_session_ids_with_404(client, shopper, session_id):
    response = client.get(reverse("payments:success"), {"session_id": session_id})
    assert response.status_code == 404


def sign_by_hand(body, secret, timestamp):
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@pytest.mark.parametrize(
    "how", ["forged", "stale", "future", "wrong secret", "missing", "garbage header"]
)
def test_bad_signatures_are_refused_and_change_nothing(checkout, stripe_api, client, settings, how):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    body, header = signed_event(
        "checkout.session.completed", session, secret=settings.STRIPE_WEBHOOK_SECRET
    )
    secret = settings.STRIPE_WEBHOOK_SECRET
    headers = {
        "forged": header,
        "stale": sign_by_hand(body, secret, int(time.time()) - 301),
        "future": sign_by_hand(body, secret, int(time.time()) + 3600),
        "wrong secret": sign_by_hand(body, "whsec_not_ours", int(time.time())),
        "missing": None,
        "garbage header": "nonsense",
    }
    if how == "forged":
        body = body.replace(session["id"], session["id"] + "x")
    extra = {"HTTP_STRIPE_SIGNATURE": headers[how]} if headers[how] else {}

    response = client.post(WEBHOOK, data=body, content_type="application/json", **extra)

    assert response.status_code == 400
    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("body", ["not json at all", "", '{"id": "evt_1"}', "[1, 2]"])
def test_malformed_bodies_are_refused(client, settings, body):
    header = sign_by_hand(body, settings.STRIPE_WEBHOOK_SECRET, int(time.time()))
    response = client.post(WEBHOOK, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header)  # fmt: skip
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_unknown_event_types_are_answered_200_and_ignored(deliver):
    response = deliver("customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status_code == 200
    assert "not handled" in WebhookEvent.objects.get().outcome


@pytest.mark.parametrize("obj", [{}, {"id": ""}, {"object": "checkout.session"}])
def test_a_signed_event_without_an_object_id_is_ignored(deliver, obj):
    response = deliver("checkout.session.completed", obj)
    assert response.status_code == 200
    assert "without an object id" in WebhookEvent.objects.get().outcome


def test_an_event_for_an_unknown_session_is_ignored(deliver):
    response = deliver("checkout.session.completed", {"id": "cs_unknown", "status": "complete",
                                                      "payment_status": "paid"})  # fmt: skip
    assert response.status_code == 200
    assert "unknown session" in WebhookEvent.objects.get().outcome


def test_the_webhook_needs_no_csrf_token_and_refuses_get(settings, checkout, stripe_api):
    order, _, session = checkout()
    assert order.status == OrderStatus.PENDING_PAYMENT
    stripe_api.complete(session["id"])
    body, header = signed_event("checkout.session.completed", session,
                                secret=settings.STRIPE_WEBHOOK_SECRET)  # fmt: skip
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(WEBHOOK, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header).status_code == 200  # fmt: skip
    assert strict.get(WEBHOOK).status_code == 405


def test_the_success_page_before_the_webhook_confirms_with_the_api(client, checkout, stripe_api):
    order, _, session = checkout()
    stripe_api.complete(session["id"])

    page = client.get(reverse("payments:success"), {"session_id": session["id"]})

    assert status(order) == OrderStatus.PAID
    assert "Your payment is confirmed" in page.content.decode()
    assert stripe_api.calls("GET", f"/v1/checkout/sessions/{session['id']}")


def test_the_success_page_says_confirming_while_nothing_is_known(client, checkout):
    order, _, session = checkout()
    page = client.get(reverse("payments:success"), {"session_id": session["id"]})
    html = page.content.decode()
    assert "Confirming your payment" in html
    assert "data-confirming" in html
    assert "js/confirming" in html
    assert "Check again" in html
    assert status(order) == OrderStatus.PENDING_PAYMENT


def test_the_success_page_is_only_for_the_orders_owner(checkout):
    _, _, session = checkout()
    other = Client()
    other.force_login(UserFactory())
    assert other.get(reverse("payments:success"), {"session_id": session["id"]}).status_code == 404


def test_the_cancel_page_offers_retry_and_cancel(client, checkout):
    order, _, _ = checkout()
    html = client.get(reverse("payments:cancelled", args=[order.number])).content.decode()
    assert "Try payment again" in html
    assert "Cancel order" in html


def test_cancelling_expires_the_open_session_first(client, checkout, stripe_api):
    order, product, session = checkout()

    client.post(reverse("orders:cancel", args=[order.number]))

    assert stripe_api.calls("POST", f"/v1/checkout/sessions/{session['id']}/expire")
    assert stripe_api.sessions[session["id"]]["status"] == "expired"
    assert status(order) == OrderStatus.CANCELLED
    assert stock(product) == 10
    assert Payment.objects.get().status == PaymentStatus.EXPIRED


def test_cancelling_a_session_paid_meanwhile_keeps_the_order(client, checkout, stripe_api):
    order, product, session = checkout()
    stripe_api.complete(session["id"])  # paid a moment ago; the webhook is still on its way

    response = client.post(reverse("orders:cancel", args=[order.number]), follow=True)

    assert "has just been paid" in response.content.decode()
    assert status(order) == OrderStatus.PAID
    assert stock(product) == 8


def test_cancelling_when_the_api_is_down_changes_nothing(client, checkout, stripe_api):
    order, product, _ = checkout()
    stripe_api.fail_next(status=500)
    response = client.post(reverse("orders:cancel", args=[order.number]), follow=True)
    assert "try again" in response.content.decode()
    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert stock(product) == 8


def test_reconcile_repairs_an_order_whose_webhook_was_lost(checkout, stripe_api):
    order, _, session = checkout()
    stripe_api.complete(session["id"])
    Payment.objects.update(created=timezone.now() - timedelta(minutes=30))
    out = StringIO()

    call_command("reconcile_payments", "--older-than", "10", stdout=out)

    assert status(order) == OrderStatus.PAID
    assert f"{session['id']}: order {order.number} paid" in out.getvalue()
    call_command("reconcile_payments", "--older-than", "10", stdout=StringIO())
    assert Order.objects.get(pk=order.pk).events.filter(to_status="paid").count() == 1


def test_reconcile_leaves_recent_and_unpaid_sessions_alone(checkout, stripe_api):
    order, _, _ = checkout()
    out = StringIO()
    call_command("reconcile_payments", "--older-than", "0", stdout=out)
    assert status(order) == OrderStatus.PENDING_PAYMENT
    assert "0 change(s)." in out.getvalue()


def test_reconcile_retries_an_automatic_refund_that_failed(
    checkout, stripe_api, deliver, django_capture_on_commit_callbacks
):
    order, _, session = checkout()
    Payment.objects.update(status=PaymentStatus.EXPIRED)
    order_transition(order=order, to=OrderStatus.CANCELLED, source="test")
    stripe_api.complete(session["id"])
    stripe_api.fail_next(status=500)  # the refund right after the webhook fails
    with django_capture_on_commit_callbacks(execute=True):
        deliver("checkout.session.completed", session)
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1
    assert not stripe_api.refunds

    call_command("reconcile_payments", stdout=StringIO())

    assert len(stripe_api.refunds) == 1


def signed_post(client, settings, body):
    header = sign_by_hand(body, settings.STRIPE_WEBHOOK_SECRET, int(time.time()))
    return client.post(WEBHOOK, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)  # fmt: skip


def event_body(event_id="evt_1", kind="checkout.session.completed", obj=None):
    obj = {"id": "cs_1", "status": "complete", "payment_status": "paid"} if obj is None else obj
    return json.dumps({"id": event_id, "type": kind, "data": {"object": obj}})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(event_body(kind=7), id="numeric type"),
        pytest.param(event_body(kind=None), id="no type"),
        pytest.param(event_body(event_id=12), id="numeric id"),
        pytest.param(event_body(event_id="evt_\x00"), id="NUL in the event id"),
        pytest.param(event_body(event_id="e" * 256), id="over-long event id"),
        pytest.param(event_body(obj={"id": "cs_\x00"}), id="NUL in the object id"),
        pytest.param(event_body(obj={"id": "c" * 256}), id="over-long object id"),
        pytest.param(event_body(obj={"id": ["cs_1"]}), id="object id a list"),
        pytest.param(event_body(obj=[1]), id="object a list"),
        pytest.param(json.dumps({"id": "evt_1", "type": "x", "data": 3}), id="data a number"),
        pytest.param(event_body(obj={"id": "cs_1", "currency": 840}), id="numeric currency"),
        pytest.param(event_body(obj={"id": "cs_1", "amount_total": "100"}), id="text amount"),
        pytest.param(event_body(obj={"id": "cs_1", "amount_total": True}), id="boolean amount"),
        pytest.param(event_body(obj={"id": "cs_1", "status": {"a": 1}}), id="status an object"),
        pytest.param(event_body(obj={"id": "cs_1", "payment_intent": [1]}), id="intent a list"),
        pytest.param(event_body(obj={"id": "cs_1", "expires_at": "soon"}), id="text expiry"),
        pytest.param(
            event_body(
                kind="charge.refunded",
                obj={"id": "ch_1", "payment_intent": "pi_1", "amount": "5", "amount_refunded": 5},
            ),
            id="text charge amount",
        ),
        pytest.param(
            event_body(kind="charge.refunded", obj={"id": "ch_1", "payment_intent": "pi_1"}),
            id="charge without amounts",
        ),
        pytest.param(
            '{"id": "evt_1", "type": "x", "data": {"object": {"id": "o", "deep": '
            + "[" * 100_000
            + "]" * 100_000
            + "}}}",
            id="deep JSON",
        ),
    ],
)
def test_signed_events_the_store_cannot_read_are_refused_with_400(client, settings, body):
    response = signed_post(client, settings, body)
    assert response.status_code == 400
    assert "malformed" in response.content.decode()
    assert not WebhookEvent.objects.exists()


def test_a_signed_event_with_odd_ids_never_reaches_the_database_as_a_500(client, settings):
    # Many NUL-laden and long values at once: 400, and the next good event still works.
    assert signed_post(client, settings, event_body(event_id="\x00" * 300)).status_code == 400
    good = signed_post(client, settings, event_body(kind="customer.created",
                                                     obj={"id": "cus_1"}))  # fmt: skip
    assert good.status_code == 200
    assert WebhookEvent.objects.get().event_id == "evt_1"
