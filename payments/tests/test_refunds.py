"""Refunds of any size: by amount or by lines, capped, restocked or not, sent to the Stripe API
double through the real SDK, and finished by its answer, by webhooks or by reconcile_payments."""

import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from catalog.tests.factories import ProductFactory, only_variant
from orders.exceptions import RefundPending
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus, Refund, RefundState
from payments.services import RefundRefused, refund_create
from pricing.tests.factories import TaxRateFactory, VoucherFactory

pytestmark = pytest.mark.django_db

S = OrderStatus


def paid_order(stripe_api, deliver, lines=None, code=""):
    """An order paid through a Checkout Session on the double, confirmed by its webhook."""
    order = place_order(lines or [(ProductFactory(stock=10), 3)], code=code)
    client = Client()
    client.force_login(order.user)
    client.post(reverse("payments:start", args=[order.number]))
    session = stripe_api.complete(order.payments.get().session_id)
    deliver("checkout.session.completed", session)
    order = Order.objects.get(pk=order.pk)
    assert order.status == S.PAID
    return order


def refund(order, capture, **kwargs):
    """refund_create, with what it does after commit (asking the provider) run too."""
    kwargs.setdefault("restock", False)
    kwargs.setdefault("reason", "asked by the customer")
    with capture(execute=True):
        made = refund_create(order=order, **kwargs)
    made.refresh_from_db()
    return made


def status(order):
    return Order.objects.get(pk=order.pk).status


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


# --- By amount, by lines ---------------------------------------------------------------------


def test_a_refund_by_amount_is_sent_in_minor_units_and_leaves_the_order_as_it_is(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)

    made = refund(order, capture, amount=Decimal("12.50"), reason="late delivery")

    [call] = stripe_api.calls("POST", "/v1/refunds")
    assert call["form"]["amount"] == "1250"
    assert call["form"]["payment_intent"] == order.payments.get().payment_intent
    assert call["form"]["metadata[refund_id]"] == str(made.pk)
    assert call["headers"]["Idempotency-Key"] == f"refund-{made.pk}"
    assert (made.state, made.amount, made.source) == ("succeeded", Decimal("12.50"), "back office")
    assert made.provider_refund_id == stripe_api.refunds[0]["id"]
    assert status(order) == S.PAID
    notes = list(order.events.filter(kind="refund").values_list("note", flat=True))
    assert notes == ["Refund of $12.50 asked: late delivery", "Refund of $12.50 made"]


def test_a_refund_by_lines_gives_back_what_each_unit_was_charged_after_discount_and_tax(
    stripe_api, deliver, capture, settings
):
    settings.PRICES_INCLUDE_TAX = False
    TaxRateFactory(country="GB", rate=Decimal("20"))
    product = ProductFactory(stock=10, price=Decimal("10.00"))
    order = paid_order(stripe_api, deliver, [(product, 3)], code=VoucherFactory().code)
    item = order.items.get()
    # 3 × 10.00, 10 % off (3.00), 20 % tax on the 27.00 left (5.40): 32.40, 10.80 a unit.
    assert (item.line_total, item.discount, item.tax) == (
        Decimal("30"),
        Decimal("3"),
        Decimal("5.4"),
    )

    made = refund(order, capture, lines={item.pk: 2}, restock=True)

    assert made.amount == Decimal("21.60")
    assert stripe_api.calls("POST", "/v1/refunds")[0]["form"]["amount"] == "2160"
    assert [(line.item, line.quantity) for line in made.lines.all()] == [(item, 2)]
    assert only_variant(product).stock == 10 - 3 + 2


def test_a_unit_that_does_not_divide_evenly_is_rounded_to_the_currency(
    stripe_api, deliver, capture, settings
):
    settings.PRICES_INCLUDE_TAX = True
    TaxRateFactory(country="GB", rate=Decimal("20"))
    product = ProductFactory(stock=10, price=Decimal("3.33"))
    order = paid_order(
        stripe_api, deliver, [(product, 3)], code=VoucherFactory(value=Decimal("10")).code
    )
    item = order.items.get()
    assert item.tax > 0
    charged = item.line_total - item.discount  # the tax is inside the price

    made = refund(order, capture, lines={item.pk: 1})

    assert made.amount == (charged / 3).quantize(Decimal("0.01"))


def test_without_restock_the_stock_stays_as_it_is(stripe_api, deliver, capture):
    product = ProductFactory(stock=10)
    order = paid_order(stripe_api, deliver, [(product, 3)])

    refund(order, capture, lines={order.items.get().pk: 3}, restock=False)

    assert only_variant(product).stock == 7


def test_an_amount_and_lines_together_refund_the_amount_for_those_lines(
    stripe_api, deliver, capture
):
    product = ProductFactory(stock=10)
    order = paid_order(stripe_api, deliver, [(product, 3)])
    item = order.items.get()

    # Two units and the shipping of the order, restocked.
    made = refund(order, capture, lines={item.pk: 2}, amount=Decimal("20.00") + order.shipping,
                  restock=True)  # fmt: skip

    assert made.amount == Decimal("20.00") + order.shipping
    assert only_variant(product).stock == 9


# --- Caps ------------------------------------------------------------------------------------


def test_a_line_is_never_refunded_beyond_what_was_bought(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)
    item = order.items.get()
    refund(order, capture, lines={item.pk: 2})

    with pytest.raises(RefundRefused, match=r"At most 1 of .* can still be refunded"):
        refund_create(order=order, lines={item.pk: 2}, restock=True, reason="")

    assert Refund.objects.count() == 1
    refund(order, capture, lines={item.pk: 1})
    assert order.refunds.count() == 2


def test_lines_of_another_order_or_of_nothing_are_refused(stripe_api, deliver):
    order = paid_order(stripe_api, deliver)
    other = place_order([(ProductFactory(), 1)])

    with pytest.raises(RefundRefused, match="is not part of order"):
        refund_create(order=order, lines={other.items.get().pk: 1}, restock=False, reason="")
    with pytest.raises(RefundRefused, match="Refund at least one"):
        refund_create(order=order, lines={order.items.get().pk: 0}, restock=False, reason="")
    with pytest.raises(RefundRefused, match="Choose the lines to refund, or an amount"):
        refund_create(order=order, restock=False, reason="")
    assert not Refund.objects.exists()


def test_more_than_was_paid_is_refused(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)

    with pytest.raises(RefundRefused, match=rf"At most \${order.total} can still be refunded"):
        refund_create(order=order, amount=order.total + Decimal("0.01"), restock=False, reason="")
    refund(order, capture, amount=order.total - Decimal("12.50"))
    with pytest.raises(RefundRefused, match=r"At most \$12\.50 can still be refunded"):
        refund_create(order=order, amount=Decimal("12.51"), restock=False, reason="")

    assert Refund.objects.count() == 1
    assert len(stripe_api.refunds) == 1


def test_amounts_of_nothing_or_with_too_many_decimals_are_refused(stripe_api, deliver):
    order = paid_order(stripe_api, deliver)
    for amount, message in [("0", "more than nothing"), ("-1", "more than nothing"),
                            ("1.005", "more decimals than USD")]:  # fmt: skip
        with pytest.raises(RefundRefused, match=message):
            refund_create(order=order, amount=Decimal(amount), restock=False, reason="")
    assert not Refund.objects.exists()


def test_a_failed_refund_does_not_count_towards_what_is_left(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)
    item = order.items.get()
    stripe_api.fail_next(status=400, message="Insufficient balance", path="/v1/refunds")
    failed = refund(order, capture, lines={item.pk: 3})
    assert failed.state == RefundState.FAILED

    again = refund(order, capture, lines={item.pk: 3}, amount=order.total)

    assert again.state == RefundState.SUCCEEDED
    assert status(order) == S.REFUNDED


@pytest.mark.parametrize("to", [S.PENDING_PAYMENT, S.CANCELLED])
def test_an_order_whose_money_the_shop_does_not_hold_cannot_be_refunded(to, stripe_api):
    order = place_order([(ProductFactory(), 1)])
    if to != S.PENDING_PAYMENT:
        order_transition(order=order, to=to, source="test")

    with pytest.raises(RefundRefused, match="cannot be refunded"):
        refund_create(order=order, amount=Decimal("1"), restock=False, reason="")


def test_an_order_marked_paid_without_a_payment_has_nothing_to_refund(stripe_api):
    order = place_order([(ProductFactory(), 1)])
    order_transition(order=order, to=S.PAID, source="test")

    with pytest.raises(RefundRefused, match="has no payment to refund"):
        refund_create(order=order, amount=Decimal("1"), restock=False, reason="")


@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_never_give_back_more_than_was_paid(stripe_api, deliver):
    order = paid_order(stripe_api, deliver)
    most = order.total - Decimal("1.00")  # two of these would be more than was paid
    barrier = threading.Barrier(2)
    made, refused, errors = [], [], []

    def run():
        try:
            barrier.wait()
            made.append(refund_create(order=order, amount=most, restock=False, reason="race"))
        except RefundRefused as exc:
            refused.append(exc)
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
    assert (len(made), len(refused)) == (1, 1)
    assert Refund.objects.get().amount == most
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1


# --- Refunded in full --------------------------------------------------------------------------


@pytest.mark.parametrize("fulfilment", [[], [S.SHIPPED], [S.SHIPPED, S.DELIVERED]])
def test_refunds_adding_up_to_the_total_make_the_order_refunded(
    fulfilment, stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    for step in fulfilment:
        order_transition(order=order, to=step, source="test")
    before = status(order)

    refund(order, capture, amount=Decimal("5.00"))
    assert status(order) == before  # partial: the fulfilment status stays
    refund(order, capture, amount=order.total - Decimal("5.00"))

    assert status(order) == S.REFUNDED
    assert order.events.filter(to_status=S.REFUNDED).count() == 1
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


# --- Failures and reconcile_payments ---------------------------------------------------------


def test_a_refund_the_provider_declines_fails_and_reconcile_sends_it_again_with_its_key(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    stripe_api.fail_next(status=400, message="Insufficient Stripe balance", path="/v1/refunds")

    made = refund(order, capture, amount=order.total)

    assert made.state == RefundState.FAILED
    assert "Insufficient Stripe balance" in made.failure
    assert "failed: " in order.events.filter(kind="refund").last().note
    assert status(order) == S.PAID

    call_command("reconcile_payments", "--older-than", "0", stdout=StringIO())

    first, second = stripe_api.calls("POST", "/v1/refunds")
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert second["headers"]["Idempotency-Key"] == f"refund-{made.pk}"
    made.refresh_from_db()
    assert (made.state, made.failure) == ("succeeded", "")
    assert status(order) == S.REFUNDED


def test_a_refund_never_sent_is_sent_by_reconcile(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)
    stripe_api.fail_next(status=500, path="/v1/refunds")  # Stripe down: try later

    made = refund(order, capture, amount=Decimal("3.00"))
    assert (made.state, made.provider_refund_id) == ("pending", None)

    call_command("reconcile_payments", "--older-than", "0", stdout=StringIO())

    made.refresh_from_db()
    assert made.state == "succeeded"
    assert len(stripe_api.refunds) == 1


def test_reconcile_does_not_resend_a_failed_refund_that_no_longer_fits(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    stripe_api.fail_next(status=400, path="/v1/refunds")
    failed = refund(order, capture, amount=Decimal("10.00"))
    refund(order, capture, amount=order.total - Decimal("5.00"))  # staff refunded otherwise

    out = StringIO()
    call_command("reconcile_payments", "--older-than", "0", stdout=out)

    failed.refresh_from_db()
    assert failed.state == RefundState.FAILED
    assert len(stripe_api.refunds) == 1


# --- Webhooks --------------------------------------------------------------------------------


def test_a_pending_refund_is_finished_by_its_webhook(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)
    stripe_api.refund_status = "pending"
    made = refund(order, capture, amount=order.total)
    assert made.state == RefundState.PENDING

    deliver("charge.refund.updated", stripe_api.settle(made.provider_refund_id, "succeeded"))

    made.refresh_from_db()
    assert made.state == RefundState.SUCCEEDED
    assert status(order) == S.REFUNDED


def test_a_refund_that_fails_at_the_bank_is_failed_for_staff_to_see(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)
    stripe_api.refund_status = "pending"
    made = refund(order, capture, amount=Decimal("4.00"))

    failed = stripe_api.settle(made.provider_refund_id, "failed", "expired_or_canceled_card")
    deliver("refund.failed", failed)
    deliver("charge.refund.updated", {**failed, "status": "succeeded"})  # late and stale

    made.refresh_from_db()
    assert (made.state, made.failure) == ("failed", "expired_or_canceled_card")
    assert status(order) == S.PAID


def test_an_event_about_our_refund_before_its_answer_is_recorded_finds_it_by_metadata(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    stripe_api.fail_next(status=500, path="/v1/refunds")
    made = refund(order, capture, amount=Decimal("4.00"))  # not sent yet

    payment_intent = order.payments.get().payment_intent
    deliver("charge.refund.updated", {"id": "re_early", "object": "refund", "amount": 400,
                                      "status": "succeeded", "payment_intent": payment_intent,
                                      "metadata": {"refund_id": str(made.pk)}})  # fmt: skip

    assert Refund.objects.get().pk == made.pk
    made.refresh_from_db()
    assert (made.state, made.provider_refund_id) == ("succeeded", "re_early")


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(stripe_api, deliver, capture):
    order = paid_order(stripe_api, deliver)
    refund(order, capture, amount=Decimal("2.00"))  # ours
    payment_intent = order.payments.get().payment_intent
    stripe_api.refund_in_dashboard(payment_intent, 300)
    # An API version that does not list the charge's refunds: the amounts alone tell.
    charge = {**stripe_api.charge(payment_intent), "refunds": None}

    deliver("charge.refunded", charge, event_id="evt_dash")
    deliver("charge.refunded", charge, event_id="evt_dash")  # delivered twice
    deliver("charge.refunded", charge, event_id="evt_dash_resent")  # or sent again

    dashboard = Refund.objects.get(source="payment provider")
    assert (dashboard.amount, dashboard.state) == (Decimal("3.00"), "succeeded")
    assert (dashboard.restock, dashboard.lines.count()) == (False, 0)
    assert Refund.objects.count() == 2
    assert status(order) == S.PAID


def test_dashboard_refunds_arriving_out_of_order_are_recorded_once_each(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    payment_intent = order.payments.get().payment_intent
    stripe_api.refund_in_dashboard(payment_intent, 300)
    first = stripe_api.charge(payment_intent)
    rest = to_minor(order.total) - 300
    stripe_api.refund_in_dashboard(payment_intent, rest)
    second = stripe_api.charge(payment_intent)

    deliver("charge.refunded", second)  # the later event first
    deliver("charge.refunded", first)
    deliver("refund.updated", {**stripe_api.refunds[0]})

    amounts = sorted(Refund.objects.values_list("amount", flat=True))
    assert amounts == sorted([Decimal("3.00"), order.total - Decimal("3.00")])
    assert set(Refund.objects.values_list("state", flat=True)) == {"succeeded"}
    assert status(order) == S.REFUNDED


def test_a_dashboard_refund_recorded_from_amounts_takes_its_id_when_an_event_names_it(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    payment_intent = order.payments.get().payment_intent
    made = stripe_api.refund_in_dashboard(payment_intent, 300)
    deliver("charge.refunded", {**stripe_api.charge(payment_intent), "refunds": None})

    deliver("refund.updated", made)

    assert Refund.objects.get().provider_refund_id == made["id"]


def test_automatic_refunds_are_not_refund_records(stripe_api, deliver, capture):
    order = place_order([(ProductFactory(stock=5), 1)])
    client = Client()
    client.force_login(order.user)
    client.post(reverse("payments:start", args=[order.number]))
    session = stripe_api.complete(order.payments.get().session_id)
    with capture(execute=True):
        deliver("checkout.session.completed", {**session, "amount_total": 1})  # mismatch

    deliver("charge.refunded", stripe_api.charge(session["payment_intent"]))

    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert not Refund.objects.exists()
    assert status(order) == S.PENDING_PAYMENT


# --- Shipping waits ---------------------------------------------------------------------------


def test_an_order_with_a_refund_pending_cannot_be_shipped_until_it_is_done(
    stripe_api, deliver, capture
):
    order = paid_order(stripe_api, deliver)
    stripe_api.refund_status = "pending"
    made = refund(order, capture, amount=Decimal("1.00"))

    with pytest.raises(RefundPending):
        order_transition(order=order, to=S.SHIPPED, source="test")
    assert status(order) == S.PAID

    deliver("charge.refund.updated", stripe_api.settle(made.provider_refund_id, "succeeded"))
    order_transition(order=order, to=S.SHIPPED, source="test")
    assert status(order) == S.SHIPPED


def to_minor(amount):
    return int(amount * 100)
