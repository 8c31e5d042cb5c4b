"""Headers, CSP, CSRF, escaping, rate limits and request ids, through the store's own URLs."""

import json
import logging
import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory, order_manager
from catalog.tests.factories import ProductFactory
from orders.tests.factories import fill_cart, place_order
from shop.logging import JsonFormatter, RequestContextFilter, redact

pytestmark = pytest.mark.django_db


def page_types(user):
    product = ProductFactory(slug="lamp")
    order = place_order([(product, 1)], user=user)
    fill_cart(user, [(product, 1)])
    return [
        "/",
        "/products/?q=lamp",
        product.get_absolute_url(),
        "/cart/",
        "/checkout/",
        "/orders/",
        order.get_absolute_url(),
        "/accounts/",
        "/accounts/login/",
        "/no/such/page/",
        "/admin/login/",
    ]


def test_every_page_type_carries_the_security_headers_and_a_strict_csp(client, shopper):
    for path in page_types(shopper):
        response = client.get(path)
        csp = response["Content-Security-Policy"]
        assert "unsafe-inline" not in csp, path
        assert "unsafe-eval" not in csp, path
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self' https://checkout.stripe.com",
            "object-src 'none'",
        ):
            assert directive in csp, (path, directive)
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response["X-Request-ID"], path


def test_https_redirect_hsts_and_secure_cookies_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31_536_000

    plain = client.get("/products/")
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/products/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = secure.cookies["csrftoken"]
    assert cookie["secure"]
    assert cookie["samesite"] == "Lax"


def test_session_cookie_is_secure_httponly_and_samesite(client):
    UserFactory(email="ada@example.com")
    response = client.post(
        reverse("accounts:login"), {"username": "ada@example.com", "password": PASSWORD}
    )
    cookie = response.cookies["sessionid"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


POSTS = [
    ("accounts:login", []),
    ("accounts:logout", []),
    ("accounts:register", []),
    ("accounts:password_reset", []),
    ("accounts:password_change", []),
    ("accounts:account", []),
    ("cart:add", []),
    ("cart:update", [1]),
    ("cart:remove", [1]),
    ("orders:checkout", []),
    ("orders:cancel", ["ABCDE-FGHJK"]),
    ("orders:put_back", ["ABCDE-FGHJK"]),
    ("payments:local_pay", ["cs_local_x"]),
]


@pytest.mark.parametrize(("name", "args"), POSTS, ids=[name for name, _ in POSTS])
def test_every_form_post_without_a_csrf_token_is_refused(name, args):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    response = client.post(reverse(name, args=args), {"quantity": 1, "product": 1})
    assert response.status_code == 403
    assert "Please try that again" in response.content.decode()


def test_product_names_and_search_text_are_escaped(client):
    ProductFactory(
        name='<script>alert("name")</script>',
        slug="evil",
        description="<img src=x onerror=alert(1)>",
    )
    for path in ("/", "/products/", "/products/evil/", '/products/?q=<script>alert("q")</script>'):
        html = client.get(path).content.decode()
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    html = client.get("/products/", {"q": '"><script>alert(1)</script>'}).content.decode()
    assert "&quot;&gt;&lt;script&gt;" in html


def a_new_window(value, period):
    """Wait for the next rate-limit window of `value` to begin. django-ratelimit's windows are
    fixed (they end at set seconds), not sliding: attempts made just before an edge would be
    counted in two windows."""
    from django_ratelimit.core import _get_window

    first = _get_window(value, period)
    while _get_window(value, period) == first:
        time.sleep(0.01)


def test_rate_limited_login_answers_429_and_resets(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "3/2s"}
    UserFactory(email="ada@example.com")

    def attempt(email="ada@example.com"):
        return client.post(reverse("accounts:login"), {"username": email, "password": "wrong"})

    a_new_window("ada@example.com", 2)
    assert [attempt().status_code for _ in range(3)] == [200, 200, 200]
    blocked = attempt("ADA@example.com")  # the same account in another letter case
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.content.decode()
    assert attempt("someone.else@example.com").status_code == 200

    time.sleep(2.1)  # the window ends
    assert attempt().status_code == 200


def test_login_is_limited_per_ip_across_accounts(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": "4/m"}
    statuses = [
        client.post(
            reverse("accounts:login"), {"username": f"u{i}@example.com", "password": "x"}
        ).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]


@pytest.mark.parametrize(
    ("limit", "url", "data"),
    [
        ("register", "accounts:register", {"email": "bad"}),
        ("password_reset", "accounts:password_reset", {"email": "ada@example.com"}),
        ("cart", "cart:add", {"product": "x", "quantity": 1}),
        ("checkout", "orders:checkout", {}),
    ],
)
def test_each_limited_form_answers_429_past_its_limit(client, settings, limit, url, data):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, limit: "2/m"}
    client.force_login(UserFactory())
    statuses = [client.post(reverse(url), data).status_code for _ in range(3)]
    assert statuses[-1] == 429
    assert 429 not in statuses[:2]


def test_the_webhook_is_not_rate_limited(client, settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "1/m")
    statuses = {
        client.post(
            reverse("payments:webhook"), data="{}", content_type="application/json"
        ).status_code
        for _ in range(5)
    }
    assert statuses == {400}


def test_the_request_id_is_kept_from_the_proxy_or_made(client):
    kept = client.get("/", HTTP_X_REQUEST_ID="abc-123.proxy")
    made = client.get("/")
    forged = client.get("/", HTTP_X_REQUEST_ID="evil\nINFO fake log line")
    assert kept["X-Request-ID"] == "abc-123.proxy"
    assert len(made["X-Request-ID"]) == 32
    assert "\n" not in forged["X-Request-ID"]
    assert forged["X-Request-ID"] != "evil\nINFO fake log line"


def test_each_request_is_logged_once_with_its_id_status_duration_and_user(client, caplog, shopper):
    with caplog.at_level(logging.INFO, logger="shop.request"):
        response = client.get("/orders/", HTTP_X_REQUEST_ID="req-42")
    [record] = [r for r in caplog.records if r.name == "shop.request"]
    assert (record.method, record.path, record.status, record.user_id) == (
        "GET",
        "/orders/",
        200,
        shopper.pk,
    )
    assert record.duration_ms >= 0
    assert response["X-Request-ID"] == "req-42"


def test_log_lines_are_json_with_the_request_id_and_no_secrets():
    record = logging.LogRecord(
        "shop",
        logging.INFO,
        __file__,
        1,
        "charging with %s, password=%s",
        ("sk_live_51Habc", "hunter2"),
        None,
    )
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO"
    assert "request_id" in line
    assert "sk_live_51Habc" not in line["message"]
    assert "hunter2" not in line["message"]


@pytest.mark.parametrize(
    "secret",
    [
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "whsec_abc123",
        "4242 4242 4242 4242",
        "password=pa55word!",
        "token: abcdef",
    ],
)
def test_secrets_are_masked(secret):
    assert secret not in redact(f"something {secret} happened")


def test_open_redirects_are_refused_everywhere(client):
    UserFactory(email="ada@example.com")
    login = client.post(
        reverse("accounts:login"),
        {"username": "ada@example.com", "password": PASSWORD, "next": "https://evil.example.net/"},
    )
    cart = client.post(
        reverse("cart:add"),
        {"product": ProductFactory().pk, "quantity": 1, "next": "//evil.example.net/"},
    )
    assert "evil" not in login["Location"]
    assert "evil" not in cart["Location"]


def test_staff_pages_stay_with_staff(client):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 302
    client.force_login(order_manager())
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 200
