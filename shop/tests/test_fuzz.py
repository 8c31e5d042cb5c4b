"""Random input to every public form and action: the answer is never a server error."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import fill_cart

FIELDS = [
    "username", "password", "email", "full_name", "password1", "password2", "old_password",
    "new_password1", "new_password2", "product", "quantity", "next", "token", "signature",
    "address_line1", "address_line2", "city", "postal_code", "region", "country", "phone",
    "outcome", "q", "page", "sort", "category",
]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=300),
    st.integers().map(str),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "9" * 40, "GB", "\x00", "../../etc", "<script>"]),
)
FORMS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=20), VALUES, max_size=12)

POST_URLS = [
    ("accounts:login", []),
    ("accounts:register", []),
    ("accounts:password_reset", []),
    ("accounts:password_change", []),
    ("accounts:account", []),
    ("cart:add", []),
    ("orders:checkout", []),
    ("payments:local_pay", ["cs_local_unknown"]),
]
GET_URLS = ["catalog:product_list", "orders:list", "payments:success"]


@pytest.fixture
def shopper_client(db, settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/s")  # not under test
    settings.PAYMENT_BACKEND = "local"
    user = UserFactory()
    fill_cart(user, [(ProductFactory(), 1)])
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "args"), POST_URLS, ids=[name for name, _ in POST_URLS])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=FORMS)
def test_random_posts_never_cause_a_server_error(shopper_client, name, args, data):
    response = shopper_client.post(reverse(name, args=args), data)
    assert response.status_code < 500, (name, data)


@pytest.mark.parametrize("name", GET_URLS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=FORMS)
def test_random_query_strings_never_cause_a_server_error(shopper_client, name, data):
    response = shopper_client.get(reverse(name), data)
    assert response.status_code < 500, (name, data)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2000), signature=st.text(max_size=200))
def test_random_webhook_bodies_are_refused_cleanly(shopper_client, body, signature):
    response = shopper_client.post(
        reverse("payments:webhook"), data=body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )  # fmt: skip
    assert response.status_code == 400


# Every URL with an order number or a payment session id in its path, with the value to fill in.
IDENTIFIER_URLS = [
    "/orders/{}/",
    "/orders/{}/cancel/",
    "/orders/{}/put-back/",
    "/orders/{}/pay/",
    "/orders/{}/payment-cancelled/",
    "/payments/local/{}/",
    "/payments/local/{}/pay/",
]


@pytest.mark.parametrize("url", IDENTIFIER_URLS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(min_size=1, max_size=300))
@example(value="\x00")
@example(value="ABCDE-FGH23\x00")
@example(value="A" * 17)  # one more than Order.number holds
@example(value="a" * 256)  # one more than Payment.session_id holds
@example(value="x" * 5000)
@example(value="ABCDE-FGH23")  # well formed, but nobody's order
@example(value="cs_local_unknown")
@example(value="é<script>")
def test_odd_order_numbers_and_session_ids_in_urls_are_not_found(shopper_client, url, value):
    path = url.format(quote(value, safe=""))
    for method in (shopper_client.get, shopper_client.post):
        response = method(path)
        assert response.status_code in (404, 405), (path, method.__name__)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("orders:detail", "ABCDE-FGH23"),
        ("orders:detail", "abcde-fgh23"),
        ("payments:start", "ABCDE-FGH23"),
        ("payments:local_checkout", "cs_local_Ab-_9xY-Q_rT-Zk8w2M3nP4"),  # token_urlsafe uses "-"
        ("payments:local_pay", "cs_test_a1B2c3D4e5F6g7H8i9J0"),
    ],
)
def test_the_identifiers_the_store_issues_still_reach_their_pages(name, value):
    match = resolve(reverse(name, args=[value]))
    assert match.view_name == name
    assert list(match.kwargs.values()) == [value]
