"""Error pages and statuses, and the store's answer when the database is down."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory, catalog_manager

pytestmark = pytest.mark.django_db


def test_400_for_a_bad_host(client):
    response = client.get("/", HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


def test_403_for_staff_without_the_permission(client):
    client.force_login(catalog_manager())
    response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 403
    assert "You cannot do that here" in response.content.decode()


def test_403_for_a_form_without_its_csrf_token():
    response = Client(enforce_csrf_checks=True).post(reverse("accounts:login"), {})
    assert response.status_code == 403
    assert "Please try that again" in response.content.decode()


def test_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.urls("shop.tests.error_urls")
def test_500_shows_no_traceback_or_setting():
    response = Client(raise_request_exception=False).get("/broken/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    for leak in ("Traceback", "RuntimeError", "sk_live", "SECRET_KEY", "a bug"):
        assert leak not in html


@pytest.mark.urls("shop.tests.error_urls")
def test_a_database_error_is_a_503_not_a_500():
    response = Client(raise_request_exception=False).get("/database-gone/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_gives_503_and_the_store_recovers_by_itself():
    shopper = Client(raise_request_exception=False)
    shopper.force_login(UserFactory())
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"  # nothing listens there: PostgreSQL is "down"
    try:
        down = shopper.get("/products/")
        ready = shopper.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert down.status_code == 503
    assert "briefly unavailable" in down.content.decode()
    assert ready.status_code == 503
    assert shopper.get("/products/").status_code == 200  # no restart needed
