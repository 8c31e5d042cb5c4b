"""The local stand-in: the whole journey from cart to paid (or failed) without Stripe."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderStatus
from orders.tests.factories import checkout_form_data, fill_cart
from payments.models import Payment, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_backend(settings):
    settings.PAYMENT_BACKEND = "local"


def place_and_open_payment(client, shopper, product, quantity=2):
    cart = fill_cart(shopper, [(product, quantity)])
    response = client.post(
        reverse("orders:checkout"), checkout_form_data(cart, user=shopper), follow=True
    )
    return Order.objects.get(), response


def test_order_placed_then_paid(client, shopper, local_backend):
    product = ProductFactory(stock=10)
    order, page = place_and_open_payment(client, shopper, product)

    assert page.redirect_chain[-1][0].startswith("/payments/local/cs_local_")
    assert "Test payment" in page.content.decode()
    assert order.total.to_eng_string() in page.content.decode().replace(",", "")

    payment = Payment.objects.get()
    done = client.post(
        reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "pay"}, follow=True
    )

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert "Your payment is confirmed" in done.content.decode()
    assert WebhookEvent.objects.get().type == "checkout.session.completed"
    assert only_variant(product).stock == 8
    history = client.get(reverse("orders:list")).content.decode()
    assert "Paid" in history


def test_the_stand_in_lists_the_lines_the_provider_would_charge(client, shopper, local_backend):
    product = ProductFactory(name="Kettle", price=Decimal("20.00"), stock=10)

    _, page = place_and_open_payment(client, shopper, product, quantity=2)

    lines = page.context["lines"]
    assert lines == [
        ("Kettle", 2, Decimal("20.00")),
        ("Shipping: Standard delivery", 1, Decimal("5.00")),
    ]
    assert sum(quantity * amount for _, quantity, amount in lines) == Order.objects.get().total
    assert "Shipping: Standard delivery" in page.content.decode()


def test_order_placed_then_failed_gives_stock_back(client, shopper, local_backend):
    product = ProductFactory(stock=10)
    order, _ = place_and_open_payment(client, shopper, product)
    payment = Payment.objects.get()

    done = client.post(
        reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "fail"}, follow=True
    )

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAYMENT_FAILED
    assert only_variant(product).stock == 10
    assert "did not go through" in done.content.decode()
    assert (
        "Put these items back in my cart" in client.get(order.get_absolute_url()).content.decode()
    )


def test_pressing_pay_twice_pays_once(client, shopper, local_backend):
    order, _ = place_and_open_payment(client, shopper, ProductFactory(stock=10))
    url = reverse("payments:local_pay", args=[Payment.objects.get().session_id])
    client.post(url, {"outcome": "pay"})
    client.post(url, {"outcome": "pay"})
    assert Order.objects.get(pk=order.pk).events.filter(to_status="paid").count() == 1


def test_the_stand_in_is_off_with_the_stripe_backend(client, shopper, local_backend, settings):
    _, _ = place_and_open_payment(client, shopper, ProductFactory(stock=10))
    session_id = Payment.objects.get().session_id
    settings.PAYMENT_BACKEND = "stripe"
    assert client.get(reverse("payments:local_checkout", args=[session_id])).status_code == 404
    assert client.post(reverse("payments:local_pay", args=[session_id])).status_code == 404


def test_the_stand_in_page_is_only_for_the_orders_owner(client, shopper, local_backend):
    place_and_open_payment(client, shopper, ProductFactory(stock=10))
    client.force_login(UserFactory())
    session_id = Payment.objects.get().session_id
    assert client.get(reverse("payments:local_checkout", args=[session_id])).status_code == 404


def test_refund_from_the_admin_with_the_stand_in(
    client, shopper, local_backend, django_capture_on_commit_callbacks
):
    from accounts.tests.factories import order_manager

    order, _ = place_and_open_payment(client, shopper, ProductFactory(stock=10))
    client.post(reverse("payments:local_pay", args=[Payment.objects.get().session_id]))
    client.force_login(order_manager())

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:orders_order_changelist"),
            {"action": "refund", "_selected_action": [order.pk], "confirmed": "yes"},
        )

    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    # The stand-in makes a refund of part of a payment at once, in its answer.
    refund = order.refunds.get()
    assert (refund.state, refund.provider_refund_id) == (
        "succeeded",
        f"re_local_refund-{refund.pk}",
    )


def test_the_system_check_refuses_the_stand_in_without_debug(settings):
    from payments.checks import local_stand_in_is_development_only

    settings.PAYMENT_BACKEND = "local"
    settings.DEBUG = False
    assert [e.id for e in local_stand_in_is_development_only(None)] == ["payments.E001"]
    settings.DEBUG = True
    assert local_stand_in_is_development_only(None) == []
    settings.DEBUG = False
    with pytest.raises(SystemCheckError, match=r"payments\.E001"):
        call_command("check")
