"""Starting payment: Checkout Sessions made through the real SDK against the API double."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from orders.tests.factories import place_order
from payments.models import Payment
from payments.money import to_minor_units

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

    response = client.get(reverse("payments:start", args=[order.number]))

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
        ("Shipping", "500", "1", "usd"),
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


def test_an_open_session_is_reused(client, shopper, stripe_api):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    first = client.get(reverse("payments:start", args=[order.number]))
    second = client.get(reverse("payments:start", args=[order.number]))
    assert first["Location"] == second["Location"]
    assert len(stripe_api.calls("POST", "/v1/checkout/sessions")) == 1


def test_an_api_error_keeps_the_order_pending_and_says_to_retry(client, shopper, stripe_api):
    product = ProductFactory(stock=5)
    order = place_order([(product, 2)], user=shopper)
    stripe_api.fail_next(status=500)

    response = client.get(reverse("payments:start", args=[order.number]), follow=True)

    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert "could not reach the payment service" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert Product.objects.get(pk=product.pk).stock == 3
    assert not Payment.objects.exists()

    retry = client.get(reverse("payments:start", args=[order.number]))
    assert retry["Location"].startswith("https://checkout.stripe.test/")


def test_a_declined_request_is_handled_the_same_way(client, shopper, stripe_api):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    stripe_api.fail_next(status=400, message="Invalid currency")
    response = client.get(reverse("payments:start", args=[order.number]), follow=True)
    assert "try again" in response.content.decode()
    assert not Payment.objects.exists()


def test_an_unreachable_api_is_handled(client, shopper, settings):
    settings.PAYMENT_BACKEND = "stripe"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    order = place_order([(ProductFactory(), 1)], user=shopper)
    response = client.get(reverse("payments:start", args=[order.number]), follow=True)
    assert response.status_code == 200
    assert "could not reach the payment service" in response.content.decode()


def test_only_the_owner_can_start_payment_and_only_while_pending(client, shopper, stripe_api):
    someone_elses = place_order([(ProductFactory(), 1)])
    assert client.get(reverse("payments:start", args=[someone_elses.number])).status_code == 404

    mine = place_order([(ProductFactory(), 1)], user=shopper)
    client.post(reverse("orders:cancel", args=[mine.number]))
    response = client.get(reverse("payments:start", args=[mine.number]), follow=True)
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
    client.get(reverse("payments:start", args=[order.number]))
    form = stripe_api.calls("POST", "/v1/checkout/sessions")[0]["form"]
    assert form["line_items[0][price_data][unit_amount]"] == "1200"
    assert form["line_items[0][price_data][currency]"] == "jpy"
