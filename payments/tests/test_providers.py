"""Choosing the payment provider: PAYMENT_PROVIDER, PAYMENT_BACKEND, and what start-up refuses."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payments.checks import local_stand_in_is_development_only
from payments.models import Payment
from payments.providers import provider
from payments.providers.local import LocalProvider
from payments.providers.stripe import StripeProvider
from shop.tests.test_settings import PRODUCTION_VARS, ROOT

STAND_IN = "payments.providers.local.LocalProvider"


class RenamedStandIn(LocalProvider):
    """The stand-in reached by another path: still a stand-in."""


class HalfAProvider:
    name = "half"
    development_only = False

    def create_session(self, **kwargs): ...

    def retrieve_session(self, session_id): ...

    def expire_session(self, session_id): ...


def boot(**env):
    """Start the store as gunicorn does (the WSGI application, no system checks), in production."""
    unset = {"DJANGO_ALLOW_ASYNC_UNSAFE", "PAYMENT_BACKEND", "PAYMENT_PROVIDER", *PRODUCTION_VARS}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", "import shop.wsgi"],
        cwd=ROOT,
        env={
            **clean,
            "ENV_FILE": "",
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            **PRODUCTION_VARS,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db
def test_payment_provider_chooses_the_provider_whatever_payment_backend_says(
    client, shopper, settings
):
    settings.PAYMENT_BACKEND = "stripe"
    settings.PAYMENT_PROVIDER = STAND_IN
    order = place_order([(ProductFactory(), 1)], user=shopper)

    response = client.post(reverse("payments:start", args=[order.number]))

    payment = Payment.objects.get()
    assert payment.provider == "local"
    assert response["Location"] == reverse("payments:local_checkout", args=[payment.session_id])


def test_payment_backend_chooses_while_payment_provider_is_empty(settings):
    settings.PAYMENT_PROVIDER = ""
    settings.PAYMENT_BACKEND = "local"
    assert isinstance(provider(), LocalProvider)
    settings.PAYMENT_BACKEND = "stripe"
    assert isinstance(provider(), StripeProvider)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("payments.providers.paypal.PaypalProvider", "cannot be imported"),
        ("payments.providers.stripe.StripeProvder", "cannot be imported"),
        ("payments.providers.BUILT_IN", "is not a class"),
        ("datetime.date", "cannot be made without arguments"),
        (
            "collections.OrderedDict",
            "is not a payments.providers.PaymentProvider: it has no name, development_only, "
            "create_session, retrieve_session, expire_session, refund, verify_webhook, "
            "parse_webhook.",
        ),
        (
            "payments.tests.test_providers.HalfAProvider",
            "it has no refund, verify_webhook, parse_webhook.",
        ),
    ],
)
def test_a_provider_that_cannot_be_used_is_refused_by_name(settings, path, reason):
    settings.PAYMENT_PROVIDER = path
    with pytest.raises(ImproperlyConfigured) as refused:
        provider()
    assert str(refused.value).startswith(f"PAYMENT_PROVIDER {path} ")
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("payments.providers.paypal.PaypalProvider", "cannot be imported"),
        ("payments.tests.test_providers.HalfAProvider", "it has no refund"),
    ],
)
def test_start_up_stops_on_a_provider_that_cannot_be_used(path, reason):
    # Without a system check run: gunicorn runs none, so the first payment would find out.
    result = boot(PAYMENT_PROVIDER=path)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        f"django.core.exceptions.ImproperlyConfigured: PAYMENT_PROVIDER {path}"
    )
    assert reason in last_line


def test_production_starts_with_stripe_named_by_its_dotted_path():
    result = boot(PAYMENT_PROVIDER="payments.providers.stripe.StripeProvider")
    assert result.returncode == 0, result.stderr


def test_production_refuses_the_stand_in_named_by_its_dotted_path():
    result = boot(PAYMENT_PROVIDER=STAND_IN)

    assert result.returncode != 0
    assert f"PAYMENT_PROVIDER={STAND_IN} is the development stand-in" in result.stderr


def test_production_refuses_a_development_only_provider_under_any_path():
    path = "payments.tests.test_providers.RenamedStandIn"

    result = boot(PAYMENT_PROVIDER=path)

    assert result.returncode != 0
    assert f"PAYMENT_PROVIDER {path} is for development only" in result.stderr


def test_the_system_check_refuses_a_stand_in_under_any_path_without_debug(settings):
    settings.PAYMENT_PROVIDER = "payments.tests.test_providers.RenamedStandIn"
    settings.DEBUG = False
    assert [e.id for e in local_stand_in_is_development_only(None)] == ["payments.E001"]
    settings.DEBUG = True
    assert local_stand_in_is_development_only(None) == []
