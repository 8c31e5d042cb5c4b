"""Stripe slow or stuck: every shopper gets the store's own answer within the time budget.

The API double holds its answers (after doing the work, as a Stripe that is slow to answer
does) far longer than the read timeout, so without the timeouts each request below would wait
the whole hang, as shoppers did until gunicorn killed their worker.
"""

import os
import subprocess
import sys
import time

import pytest
import stripe
from django.urls import reverse

from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderStatus
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus
from payments.providers import GatewayError, provider
from shop.settings import stripe_call_budget
from shop.tests.test_settings import PRODUCTION_VARS, ROOT

pytestmark = pytest.mark.django_db

HANG = 30  # seconds: far beyond any budget below
# What one request may add to its Stripe call: the database, rendering, the test client.
SLACK = 1.0


def call_budget(settings):
    return stripe_call_budget(
        settings.STRIPE_CONNECT_TIMEOUT,
        settings.STRIPE_READ_TIMEOUT,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def start(**env):
    """`manage.py check` in production, with the suite's own Stripe and gunicorn settings unset."""
    unset = {"DJANGO_ALLOW_ASYNC_UNSAFE", "GUNICORN_TIMEOUT", *PRODUCTION_VARS}
    clean = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("STRIPE")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "ENV_FILE": "", **PRODUCTION_VARS, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def timed(call, *args, **kwargs):
    began = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - began


def test_a_hanging_stripe_answers_the_shopper_in_time_and_they_can_pay_later(
    client, shopper, slow_stripe, settings
):
    product = ProductFactory(stock=5)
    order = place_order([(product, 2)], user=shopper)
    slow_stripe.hang(HANG)

    response, elapsed = timed(client.post, reverse("payments:start", args=[order.number]))

    assert elapsed < call_budget(settings) + SLACK
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "could not reach the payment service" in page.content.decode()
    assert "Pay now" in page.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert only_variant(product).stock == 3
    assert Payment.objects.get().status == PaymentStatus.STARTING

    slow_stripe.release()
    retry = client.post(reverse("payments:start", args=[order.number]))

    # Stripe made the session while the shopper waited; the retry gets that same one.
    [session] = slow_stripe.sessions.values()
    assert retry["Location"] == session["url"]
    first, second = slow_stripe.calls("POST", "/v1/checkout/sessions")
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    payment = Payment.objects.get()
    assert (payment.attempt, payment.session_id, payment.status) == (1, session["id"], "open")


def test_one_slow_answer_is_retried_within_the_budget(client, shopper, slow_stripe, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    order = place_order([(ProductFactory(), 1)], user=shopper)
    slow_stripe.hang(HANG, requests=1)

    response, elapsed = timed(client.post, reverse("payments:start", args=[order.number]))

    assert elapsed < call_budget(settings) + SLACK
    [session] = slow_stripe.sessions.values()
    assert response["Location"] == session["url"]
    assert len(slow_stripe.calls("POST", "/v1/checkout/sessions")) == 2


def test_a_stripe_call_never_takes_longer_than_its_budget(slow_stripe, settings):
    # Timeouts are retried by the SDK, with pauses in between: the budget counts both.
    settings.STRIPE_READ_TIMEOUT = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    slow_stripe.hang(HANG)

    began = time.monotonic()
    with pytest.raises(GatewayError):
        provider().retrieve_session("cs_test_unknown")
    elapsed = time.monotonic() - began

    assert len(slow_stripe.requests) == 3
    assert elapsed <= call_budget(settings)


@pytest.mark.parametrize("retries", [1, 2, 3, 4])
def test_the_budget_counts_the_sdks_longest_pauses_between_tries(retries):
    # The SDK's own pause before retry n (random, within a range): an upgrade that lengthens
    # its pauses must not go unnoticed.
    sdk = stripe.RequestsClient()
    longest = sum(
        max(sdk._sleep_time_seconds(n) for _ in range(500)) for n in range(1, 1 + retries)
    )
    assert longest <= stripe_call_budget(0, 0, retries) < longest + 0.1 * retries


def test_the_success_page_with_stripe_hanging_says_it_is_confirming(
    client, shopper, slow_stripe, settings
):
    order = place_order([(ProductFactory(), 1)], user=shopper)
    client.post(reverse("payments:start", args=[order.number]))
    session_id = Payment.objects.get().session_id
    slow_stripe.hang(HANG)

    response, elapsed = timed(client.get, reverse("payments:success"), {"session_id": session_id})

    assert elapsed < call_budget(settings) + SLACK
    assert response.status_code == 200
    assert "waiting for the payment service to confirm" in response.content.decode()
    assert slow_stripe.calls("GET", f"/v1/checkout/sessions/{session_id}")


def test_cancelling_with_stripe_hanging_keeps_the_order_and_says_to_retry(
    client, shopper, slow_stripe, settings
):
    product = ProductFactory(stock=5)
    order = place_order([(product, 2)], user=shopper)
    client.post(reverse("payments:start", args=[order.number]))
    slow_stripe.hang(HANG)

    response, elapsed = timed(client.post, reverse("orders:cancel", args=[order.number]))

    assert elapsed < call_budget(settings) + SLACK
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "could not be cancelled just now" in page.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert only_variant(product).stock == 3

    slow_stripe.release()
    client.post(reverse("orders:cancel", args=[order.number]))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


@pytest.mark.parametrize(
    "env",
    [
        {"STRIPE_READ_TIMEOUT": "10"},  # 2 × 13 + 0.5 = 26.5 s
        {"STRIPE_MAX_NETWORK_RETRIES": "2"},  # the old default: 3 × 11 + 1.5 = 34.5 s
        {"GUNICORN_TIMEOUT": "25"},
    ],
)
def test_start_up_refuses_stripe_timeouts_a_worker_would_be_killed_within(env):
    result = start(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: A Stripe call can take up to" in result.stderr


@pytest.mark.parametrize(
    "env", [{}, {"STRIPE_READ_TIMEOUT": "10", "GUNICORN_TIMEOUT": "40"}, {"GUNICORN_TIMEOUT": "0"}]
)
def test_start_up_accepts_the_defaults_and_budgets_that_fit(env):
    result = start(**env)
    assert result.returncode == 0, result.stderr
