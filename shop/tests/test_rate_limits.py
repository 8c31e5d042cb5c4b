"""Rate limits on both login pages, per real client behind a proxy, and the 429's Retry-After."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# Hour-long windows: a window that ends half-way through a test would reset its counts.
HOURLY = "/h"
WRONG = "not-the-password"


@pytest.fixture
def limits(settings):
    def set_limits(**rates):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}

    return set_limits


def store_login(client, email, password=WRONG, **extra):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, **extra
    )


def admin_login(client, email, password=WRONG, **extra):
    return client.post(reverse("admin:login"), {"username": email, "password": password}, **extra)


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com", is_staff=True, is_superuser=True)


def test_admin_login_is_rate_limited_per_ip(client, limits, owner):
    limits(login_ip="4" + HOURLY)

    wrong = [admin_login(client, f"guess{i}@example.com").status_code for i in range(4)]
    blocked = admin_login(client, "guess9@example.com")
    right_password = admin_login(client, "owner@example.com", PASSWORD)

    assert wrong == [200, 200, 200, 200]
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.content.decode()
    assert right_password.status_code == 429
    assert SESSION_KEY not in client.session


def test_admin_login_is_rate_limited_per_account_across_ips(client, limits, owner):
    limits(login_account="3" + HOURLY)

    wrong = [
        admin_login(client, "owner@example.com", REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i in range(1, 4)
    ]
    # A new address and another letter case are still the same account.
    right_password = admin_login(client, "OWNER@example.com", PASSWORD, REMOTE_ADDR="10.0.0.9")

    assert wrong == [200, 200, 200]
    assert right_password.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("rates", "attempt"),
    [
        ({"login_ip": "4" + HOURLY}, lambda n: {"email": f"guess{n}@example.com"}),
        (
            {"login_account": "4" + HOURLY},
            lambda n: {"email": "owner@example.com", "REMOTE_ADDR": f"10.0.0.{n}"},
        ),
    ],
    ids=["per-ip", "per-account"],
)
def test_store_and_admin_login_share_one_budget(client, limits, owner, rates, attempt):
    limits(**rates)
    pages = [store_login, admin_login] * 3

    statuses = []
    for n, login in enumerate(pages):
        extra = attempt(n)
        statuses.append(login(client, extra.pop("email"), **extra).status_code)

    assert statuses == [200, 200, 200, 200, 429, 429]


@pytest.mark.parametrize(
    ("header", "meta", "shopper_a", "shopper_b"),
    [
        ("X-Real-IP", "HTTP_X_REAL_IP", "203.0.113.10", "203.0.113.20"),
        ("X-Forwarded-For", "HTTP_X_FORWARDED_FOR", "203.0.113.10", "203.0.113.20"),
        ("X-Real-IP", "HTTP_X_REAL_IP", "2001:db8:1::1", "2001:db8:2::1"),
    ],
)
def test_shoppers_behind_one_proxy_have_their_own_login_buckets(
    client, settings, limits, header, meta, shopper_a, shopper_b
):
    settings.CLIENT_IP_HEADER = header
    limits(login_ip="3" + HOURLY)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}  # every request arrives from the proxy

    a = [
        store_login(client, f"a{i}@example.com", **proxy, **{meta: shopper_a}).status_code
        for i in range(4)
    ]
    b = store_login(client, "b@example.com", **proxy, **{meta: shopper_b})

    assert a == [200, 200, 200, 429]
    assert b.status_code == 200


def test_a_spoofed_left_most_forwarded_for_entry_gets_no_new_bucket(client, settings, limits):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    limits(login_ip="3" + HOURLY)

    def attempt(forwarded_for, n):
        return store_login(
            client, f"u{n}@example.com", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for
        ).status_code

    # The attacker writes a new address each time; the proxy appends the one it really saw.
    attacker = [attempt(f"198.51.100.{n}, 203.0.113.10", n) for n in range(5)]
    other_shopper = attempt("198.51.100.1, 203.0.113.20", 9)

    assert attacker == [200, 200, 200, 429, 429]
    assert other_shopper == 200


def test_a_missing_or_malformed_client_ip_header_counts_the_connecting_address(
    client, settings, limits
):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    limits(login_ip="3" + HOURLY)
    direct = {"REMOTE_ADDR": "10.0.0.1"}

    fallback = [
        store_login(client, "a@example.com", **direct, **header).status_code
        for header in (
            {},
            {"HTTP_X_REAL_IP": "not-an-address"},
            {"HTTP_X_REAL_IP": "999.1.1.1"},
            {"HTTP_X_REAL_IP": ""},
        )
    ]
    through_the_proxy = store_login(client, "b@example.com", **direct, HTTP_X_REAL_IP="10.9.9.9")

    assert fallback == [200, 200, 200, 429]
    assert through_the_proxy.status_code == 200


@pytest.mark.parametrize("login", [store_login, admin_login], ids=["store", "admin"])
def test_the_429_page_says_when_to_try_again(client, limits, login):
    limits(login_ip="2" + HOURLY)

    for n in range(2):
        assert login(client, f"u{n}@example.com").status_code == 200
    blocked = login(client, "u9@example.com")

    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 3600


def test_limited_cart_changes_say_when_to_try_again(limits):
    limits(cart="1" + HOURLY)
    client = Client()
    client.force_login(UserFactory())

    client.post(reverse("cart:add"), {"product": "x", "quantity": 1})
    blocked = client.post(reverse("cart:add"), {"product": "x", "quantity": 1})

    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 3600
