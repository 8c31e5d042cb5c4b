"""Fixtures for payment tests: the Stripe API double and signed webhook deliveries."""

import json
import time
import uuid

import pytest
import stripe
from django.urls import reverse

from payments.tests.stripe_double import StripeDouble

WEBHOOK = reverse("payments:webhook")


@pytest.fixture
def stripe_api(settings):
    double = StripeDouble()
    settings.PAYMENT_BACKEND = "stripe"
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield double
    double.close()


@pytest.fixture
def slow_stripe(stripe_api, settings):
    """The API double with short timeouts, for tests that make it hang (stripe_api.hang())."""
    settings.STRIPE_CONNECT_TIMEOUT = 1.0
    settings.STRIPE_READ_TIMEOUT = 1.0
    return stripe_api


def signed_event(kind, obj, *, secret, timestamp=None, event_id=None):
    """(body, Stripe-Signature header) signed the way Stripe signs."""
    body = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp or int(time.time())
    )
    return body, header


@pytest.fixture
def deliver(client, settings):
    """POST a signed event to the webhook: deliver(kind, obj, **signing options)."""

    def post(kind, obj, *, secret=None, timestamp=None, event_id=None, raw=None, header=None):
        body, signature = signed_event(
            kind,
            obj,
            secret=secret or settings.STRIPE_WEBHOOK_SECRET,
            timestamp=timestamp,
            event_id=event_id,
        )
        return client.post(
            WEBHOOK,
            data=raw if raw is not None else body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header if header is not None else signature,
        )

    return post
