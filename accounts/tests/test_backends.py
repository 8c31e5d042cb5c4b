"""The store's authentication backend: the user and the header's cart count in one query."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, authenticate
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import ShopperBackend
from accounts.tests.factories import PASSWORD, UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import fill_cart

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_the_count_of_items_in_their_cart():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    lamp, chair = ProductFactory(stock=20), ProductFactory(stock=20)
    fill_cart(alice, [(lamp, 3), (chair, 2)])
    fill_cart(bob, [(lamp, 1)])

    with CaptureQueriesContext(connection) as queries:
        loaded = [ShopperBackend().get_user(user.pk) for user in (alice, bob, carol)]

    assert len(queries) == 3
    assert loaded == [alice, bob, carol]
    assert [user.header_cart_count for user in loaded] == [5, 1, 0]


def test_no_such_user_or_an_inactive_one_is_nobody():
    inactive = UserFactory(is_active=False)

    assert ShopperBackend().get_user(inactive.pk) is None
    assert ShopperBackend().get_user(inactive.pk + 1000) is None


def test_signing_in_records_the_stores_backend_and_a_wrong_password_is_checked_once(
    client, monkeypatch
):
    user = UserFactory()
    checks = []
    check = ModelBackend.authenticate

    def counted(self, *args, **kwargs):
        checks.append(type(self))
        return check(self, *args, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)

    assert authenticate(None, username=user.email, password="not-the-password") is None
    assert checks == [ShopperBackend]  # not again by ModelBackend, listed after it
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.ShopperBackend"


def test_a_session_signed_in_before_the_stores_backend_stays_signed_in(client):
    user = UserFactory()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    html = client.get(reverse("accounts:account")).content.decode()

    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert "Log out" in html
