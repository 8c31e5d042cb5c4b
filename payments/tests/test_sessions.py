"""Starting payment: Checkout Sessions made through the real SDK against the API double."""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory, only_variant, product_with_options
from orders.exceptions import PaymentInProgress
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus
from pricing.models import ShippingMethod
from pricing.tests.factories import TaxRateFactory, VoucherFactory
from shop.money import to_minor_units

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    return user


def test_paying_creates_a_session_from_the_order_snapshot(client, shopper, stripe_api):
    lamp = ProductFactory(name="Lamp", price=Decimal("12.50"))
    mug = ProductFactory(name="Mug", price=Decimal("4.00"))
    order = place_order([(lamp, 2), (mug, 1)], user=shopper)

    response = client.post(reverse("payments:start", args=[order.number]))

    [call] = stripe_api.calls("POST", "/v1/checkout/sessions")
    form = call["form"]
    assert response.status_code == 302
    assert response["Location"] == stripe_api.sessions[Payment.objects.get().session_id]["url"]
    assert form["mode"] == "payment"
    lines = [
        (form[f"line_items[{i}][price_data][product_data][name]"],
         form[f"line_items[{i}][price_data][unit_amount]"],
         form[f"line_items[{i}][quantity]"],
         form[f"line_items[{i}][price_data][currency]"])
        for i in range(3)
    ]  # fmt: skip
    assert sorted(lines) == [
        ("Lamp", "1250", "2", "usd"),
        ("Mug", "400", "1", "usd"),
        ("Shipping: Standard delivery", "500", "1", "usd"),
    ]
    assert form["client_reference_id"] == order.number
    assert form["metadata[order_id]"] == str(order.pk)
    assert form["customer_email"] == "ada@example.com"
    assert (
        form["success_url"]
        == "http://testserver/payments/success/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert form["cancel_url"] == f"http://testserver/orders/{order.number}/payment-cancelled/"
    assert int(form["expires_at"]) > 0
    assert call["headers"]["Idempotency-Key"] == f"order-{order.pk}-attempt-1"
    assert call["headers"]["Authorization"] == "Bearer sk_test_suite"
    payment = Payment.objects.get()
    assert (payment.order, payment.attempt, payment.amount, payment.status) == (
        order,
        1,
        order.total,
        "open",
    )
    assert stripe_api.sessions[payment.session_id]["amount_total"] == 3400


def test_a_variants_line_item_is_named_with_its_options(client, shopper, stripe_api):
    shirt = product_with_options(
        name="Shirt", options={"Size": ["S", "M"], "Colour": ["Red", "Blue"]}, price=Decimal("15")
    )
    blue_m = shirt.variants.get(label="Size: M / Colour: Blue")
    order = place_order([(blue_m, 2), (ProductFactory(name="Mug"), 1)], user=shopper)

    client.post(reverse("payments:start", args=[order.number]))

    [call] = stripe_api.calls("POST", "/v1/checkout/sessions")
    form = call["form"]
    names = {form[f"line_items[{i}][price_data][product_data][name]"] for i in range(3)}
    assert names == {"Shirt (Size: M / Colour: Blue)", "Mug", "Shipping: Standard delivery"}
    session = stripe_api.sessions[Payment.objects.get().session_id]
    assert session["amount_total"] == 2 * 1500 + 1000 + 500


def test_an_open_session_is_reused(client, shopper, stripe_api):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    first = client.post(reverse("payments:start", args=[order.number]))
    second = client.post(reverse("payments:start", args=[order.number]))
    assert first["Location"] == second["Location"]
    assert len(stripe_api.calls("POST", "/v1/checkout/sessions")) == 1


def test_an_api_error_keeps_the_order_pending_and_says_to_retry(client, shopper, stripe_api):
    product = ProductFactory(stock=5)
    order = place_order([(product, 2)], user=shopper)
    stripe_api.fail_next(status=500)

    response = client.post(reverse("payments:start", args=[order.number]), follow=True)

    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert "could not reach the payment service" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert only_variant(product).stock == 3
    attempt = Payment.objects.get()
    assert (attempt.status, attempt.session_id) == (PaymentStatus.STARTING, None)

    retry = client.post(reverse("payments:start", args=[order.number]))
    assert retry["Location"].startswith("https://checkout.stripe.test/")
    assert Payment.objects.get().status == PaymentStatus.OPEN


def test_a_declined_request_is_handled_the_same_way(client, shopper, stripe_api):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    stripe_api.fail_next(status=400, message="Invalid currency")
    response = client.post(reverse("payments:start", args=[order.number]), follow=True)
    assert "try again" in response.content.decode()
    assert not Payment.objects.exclude(status=PaymentStatus.STARTING).exists()


def test_an_unreachable_api_is_handled(client, shopper, settings):
    settings.PAYMENT_BACKEND = "stripe"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    order = place_order([(ProductFactory(), 1)], user=shopper)
    response = client.post(reverse("payments:start", args=[order.number]), follow=True)
    assert response.status_code == 200
    assert "could not reach the payment service" in response.content.decode()


def test_only_the_owner_can_start_payment_and_only_while_pending(client, shopper, stripe_api):
    someone_elses = place_order([(ProductFactory(), 1)])
    assert client.post(reverse("payments:start", args=[someone_elses.number])).status_code == 404

    mine = place_order([(ProductFactory(), 1)], user=shopper)
    client.post(reverse("orders:cancel", args=[mine.number]))
    response = client.post(reverse("payments:start", args=[mine.number]), follow=True)
    assert "is cancelled" in response.content.decode()
    assert not stripe_api.calls("POST", "/v1/checkout/sessions")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("12.34"), "USD", 1234),
        (Decimal("0.10"), "eur", 10),
        (Decimal("1999"), "JPY", 1999),
        (Decimal("1500"), "krw", 1500),
        (Decimal("1.234"), "KWD", 1230),
        (Decimal("19.999"), "USD", 2000),
    ],
)
def test_amounts_in_minor_units(amount, currency, minor):
    assert to_minor_units(amount, currency) == minor


def test_a_zero_decimal_store_currency_sends_whole_units(client, shopper, stripe_api, settings):
    settings.STORE_CURRENCY = "JPY"
    settings.SHIPPING_FLAT_RATE = Decimal("500")
    order = place_order([(ProductFactory(price=Decimal("1200")), 2)], user=shopper)
    client.post(reverse("payments:start", args=[order.number]))
    form = stripe_api.calls("POST", "/v1/checkout/sessions")[0]["form"]
    assert form["line_items[0][price_data][unit_amount]"] == "1200"
    assert form["line_items[0][price_data][currency]"] == "jpy"


def test_starting_payment_is_a_post_and_a_get_creates_nothing(client, shopper, stripe_api):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    assert client.get(reverse("payments:start", args=[order.number])).status_code == 405
    assert not stripe_api.calls("POST", "/v1/checkout/sessions")
    assert not Payment.objects.exists()


def test_a_lost_answer_is_retried_with_the_same_request_and_gets_the_same_session(
    client, shopper, stripe_api
):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    stripe_api.drop_next_answer()  # the session is made, the answer never arrives

    lost = client.post(reverse("payments:start", args=[order.number]), follow=True)
    assert "could not reach the payment service" in lost.content.decode()
    time.sleep(1.1)  # a retry a moment later: a recomputed expiry would differ
    retry = client.post(reverse("payments:start", args=[order.number]))

    first, second = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["form"] == second["form"]
    [session] = stripe_api.sessions.values()
    assert retry["Location"] == session["url"]
    payment = Payment.objects.get()
    assert (payment.attempt, payment.session_id, payment.status) == (1, session["id"], "open")


def test_a_retry_the_provider_refuses_as_a_changed_request_starts_a_new_attempt(
    client, shopper, stripe_api
):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    stripe_api.drop_next_answer()
    client.post(reverse("payments:start", args=[order.number]))

    # The same attempt again from another host name: other return URLs under the same key.
    retry = client.post(reverse("payments:start", args=[order.number]), HTTP_HOST="localhost")

    assert [p.status for p in Payment.objects.order_by("attempt")] == ["expired", "open"]
    second = Payment.objects.get(attempt=2)
    assert retry["Location"] == second.url
    assert stripe_api.sessions[second.session_id]["status"] == "open"


def test_prices_with_more_decimals_than_the_currency_are_not_sent_for_payment(
    client, shopper, stripe_api, settings
):
    settings.STORE_CURRENCY = "JPY"
    ShippingMethod.objects.update(price=Decimal("500"), free_from=None)
    # A price from before the rule (or typed into the database): 100.50 yen cannot be charged.
    product = ProductFactory(price=Decimal("100.50"))
    order = place_order([(product, 3)], user=shopper)

    response = client.post(reverse("payments:start", args=[order.number]), follow=True)

    assert "cannot be paid online" in response.content.decode()
    assert not stripe_api.calls("POST", "/v1/checkout/sessions")
    assert not Payment.objects.exists()


def test_the_amount_asked_for_is_recorded_as_sent(client, shopper, stripe_api, settings):
    settings.STORE_CURRENCY = "JPY"
    ShippingMethod.objects.update(price=Decimal("500"), free_from=None)
    order = place_order([(ProductFactory(price=Decimal("1200")), 2)], user=shopper)
    client.post(reverse("payments:start", args=[order.number]))
    payment = Payment.objects.get()
    assert payment.amount_minor == 2900 == stripe_api.sessions[payment.session_id]["amount_total"]


@pytest.mark.django_db(transaction=True)
def test_an_order_cancelled_while_its_session_is_made_gets_no_session(stripe_api):
    product = ProductFactory(stock=5)
    user = UserFactory()
    order = place_order([(product, 2)], user=user)
    shopper = Client()
    shopper.force_login(user)

    def cancel_meanwhile(path):
        # The shopper cancels in another tab while the provider is making the session.
        other = Client()
        other.force_login(user)
        other.post(reverse("orders:cancel", args=[order.number]))
        connection.close()

    stripe_api.during[("POST", "/v1/checkout/sessions")] = cancel_meanwhile

    response = shopper.post(reverse("payments:start", args=[order.number]), follow=True)

    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert "is cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert only_variant(product).stock == 5
    [session] = stripe_api.sessions.values()
    assert session["status"] == "expired"  # expired at once, never handed out
    payment = Payment.objects.get()
    assert (payment.session_id, payment.status) == (session["id"], PaymentStatus.EXPIRED)


@pytest.mark.django_db(transaction=True)
def test_a_session_opened_while_an_order_is_cancelled_is_expired_before_the_cancel(stripe_api):
    product = ProductFactory(stock=5)
    user = UserFactory()
    order = place_order([(product, 2)], user=user)
    shopper = Client()
    shopper.force_login(user)
    shopper.post(reverse("payments:start", args=[order.number]))
    Payment.objects.update(expires_at=timezone.now())  # the first session is about to end

    def pay_meanwhile(path):
        # While the cancel expires the first session, the shopper presses "Pay" in another tab.
        stripe_api.during.clear()
        other = Client()
        other.force_login(user)
        other.post(reverse("payments:start", args=[order.number]))
        connection.close()

    stripe_api.during[("POST", "/expire")] = pay_meanwhile

    response = shopper.post(reverse("orders:cancel", args=[order.number]), follow=True)

    assert f"Order {order.number} is cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert only_variant(product).stock == 5
    assert len(stripe_api.sessions) == 2
    assert {s["status"] for s in stripe_api.sessions.values()} == {"expired"}
    assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.EXPIRED}


def test_an_order_with_an_open_session_cannot_be_moved_to_cancelled(client, shopper, stripe_api):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    client.post(reverse("payments:start", args=[order.number]))

    with pytest.raises(PaymentInProgress):
        order_transition(order=order, to=OrderStatus.CANCELLED, source="test")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


def test_discounted_lines_shipping_and_tax_add_up_to_the_total_sent(client, shopper, stripe_api):
    TaxRateFactory(country="GB", name="VAT", rate=Decimal("20"))
    VoucherFactory(code="TAKE1", kind="fixed", value=Decimal("1.00"))
    # 3 × 3.33 = 9.99, 1.00 off: 8.99 does not divide by 3, so it goes as one line.
    order = place_order(
        [(ProductFactory(name="Pen", price=Decimal("3.33")), 3)], user=shopper, code="TAKE1"
    )
    assert (order.discount, order.tax) == (Decimal("1.00"), Decimal("2.80"))

    client.post(reverse("payments:start", args=[order.number]))

    form = stripe_api.calls("POST", "/v1/checkout/sessions")[0]["form"]
    lines = [
        (form[f"line_items[{i}][price_data][product_data][name]"],
         int(form[f"line_items[{i}][price_data][unit_amount]"]),
         int(form[f"line_items[{i}][quantity]"]))
        for i in range(3)
    ]  # fmt: skip
    assert lines == [
        ("3 × Pen", 899, 1),
        ("Shipping: Standard delivery", 500, 1),
        ("VAT", 280, 1),
    ]
    assert sum(amount * quantity for _, amount, quantity in lines) == 1679
    assert to_minor_units(order.total, "USD") == 1679
    assert Payment.objects.get().amount_minor == 1679
