"""Guests pay their own orders, and nobody else's: every payment page checks the order is one
the request may see (orders.access.visible_orders)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart.models import Cart
from catalog.tests.factories import ProductFactory, only_variant
from orders import access
from orders.models import Order, OrderStatus
from orders.tests.factories import checkout_form_data, place_order
from orders.tests.test_guest import GUEST_EMAIL, guest_order
from payments.models import Payment, PaymentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_backend(settings):
    settings.PAYMENT_BACKEND = "local"


@pytest.fixture
def guest(client, local_backend):
    """A guest's order with an open (local) payment session, in the `client`'s session."""
    order = guest_order([(ProductFactory(stock=10), 2)])
    client.get(access.guest_url(order))
    response = client.post(reverse("payments:start", args=[order.number]))
    payment = Payment.objects.get(order=order)
    assert response["Location"] == reverse("payments:local_checkout", args=[payment.session_id])
    return order, payment


def payment_pages(order, payment):
    """(method, url, data) of every payment page about this order."""
    return [
        ("post", reverse("payments:start", args=[order.number]), {}),
        ("get", reverse("payments:cancelled", args=[order.number]), {}),
        ("get", reverse("payments:success"), {"session_id": payment.session_id}),
        ("get", reverse("payments:local_checkout", args=[payment.session_id]), {}),
        ("post", reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "pay"}),
    ]


def test_a_guest_pays_their_order_and_sees_it_confirmed(client, guest):
    order, payment = guest

    checkout_page = client.get(reverse("payments:local_checkout", args=[payment.session_id]))
    cancelled = client.get(reverse("payments:cancelled", args=[order.number]))
    done = client.post(
        reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "pay"}, follow=True
    )

    assert checkout_page.status_code == cancelled.status_code == 200
    assert "Try payment again" in cancelled.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    html = done.content.decode()
    assert "Your payment is confirmed" in html
    assert f'href="{reverse("accounts:register")}?next={reverse("orders:list")}"' in html
    assert f'action="{reverse("orders:claim")}"' not in html


LOGIN = "login"
# What a signed-out visitor gets on each of payment_pages for an order not theirs: the GET pages
# answer as the order page does (the login page, for any number); the actions 404.
SIGNED_OUT = [404, LOGIN, LOGIN, LOGIN, 404]


def answers(client, order, payment):
    """Each payment page's answer: its status, or LOGIN for a redirect to the login page."""
    results = []
    for method, url, data in payment_pages(order, payment):
        response = getattr(client, method)(url, data)
        if response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:login") + "?next="
        ):
            results.append(LOGIN)
        else:
            results.append(response.status_code)
    return results


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        pytest.param(lambda: Client(), SIGNED_OUT, id="another-guest"),
        pytest.param(lambda: signed_in(UserFactory()), [404] * 5, id="another-shopper"),
        pytest.param(
            lambda: signed_in(UserFactory(email=GUEST_EMAIL)),
            [404] * 5,
            id="account-with-its-email",
        ),
    ],
)
def test_no_other_session_can_see_or_pay_a_guests_order(guest, other, expected):
    order, payment = guest

    assert answers(other(), order, payment) == expected
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.OPEN
    assert Payment.objects.count() == 1


def test_a_guest_order_that_joined_an_account_is_no_longer_the_guest_sessions(client, guest):
    order, payment = guest
    owner = UserFactory(email=order.email)
    access.guest_orders_claim(user=owner, email=order.email)

    guests = answers(client, order, payment)
    owners = signed_in(owner).get(reverse("payments:cancelled", args=[order.number]))

    assert guests == SIGNED_OUT
    assert owners.status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.OPEN


def test_the_success_page_offers_signed_in_shoppers_to_add_guest_orders(client, local_backend):
    shopper = UserFactory()
    client.force_login(shopper)
    order = place_order([(ProductFactory(stock=5), 1)], user=shopper)
    client.post(reverse("payments:start", args=[order.number]))
    payment = Payment.objects.get(order=order)
    done = client.post(
        reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "pay"}, follow=True
    )

    html = done.content.decode()
    assert "Your payment is confirmed" in html
    assert f'action="{reverse("orders:claim")}"' in html
    assert reverse("accounts:register") not in html.split("<main", 1)[1]


def test_a_guest_checks_out_and_pays_through_the_pages(client, local_backend):
    """The whole journey in one browser: cart, checkout with an email, payment, order page."""
    product = ProductFactory(stock=10)
    client.post(reverse("cart:add"), {"product": product.pk, "quantity": 2})
    assert client.get(reverse("orders:checkout")).status_code == 200
    cart = Cart.objects.get(session_key=client.session.session_key)
    data = checkout_form_data(cart, email="walk-in@example.com")

    placed = client.post(reverse("orders:checkout"), data)
    order = Order.objects.get()
    assert placed.status_code == 307
    assert placed["Location"] == reverse("payments:start", args=[order.number])

    paying = client.post(placed["Location"], follow=True)
    payment = Payment.objects.get(order=order)
    done = client.post(
        reverse("payments:local_pay", args=[payment.session_id]), {"outcome": "pay"}, follow=True
    )

    assert paying.status_code == 200
    assert order.user_id is None
    assert order.email == "walk-in@example.com"
    assert "Your payment is confirmed" in done.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert client.get(order.get_absolute_url()).status_code == 200
    assert only_variant(product).stock == 8
