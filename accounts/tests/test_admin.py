"""Who reaches the back office and what each staff group may do there."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from accounts.roles import CATALOG_MANAGERS, ORDER_MANAGERS
from accounts.tests.factories import (
    StaffFactory,
    UserFactory,
    catalog_manager,
    order_manager,
)

pytestmark = pytest.mark.django_db


def test_migrations_create_both_staff_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {CATALOG_MANAGERS, ORDER_MANAGERS}


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_shoppers_who_are_not_staff_cannot_enter_the_admin(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    customers = client.get(reverse("admin:accounts_user_changelist"))
    assert customers.status_code == 302


def test_the_admin_login_form_refuses_a_shopper(client):
    UserFactory(email="shopper@example.com")
    response = client.post(
        reverse("admin:login"),
        {"username": "shopper@example.com", "password": "plum-tart-on-a-sunday"},
    )
    assert response.status_code == 200
    assert "staff account" in response.content.decode()


def test_order_managers_can_look_customers_up(client):
    UserFactory(email="customer@example.com")
    client.force_login(order_manager())

    listing = client.get(reverse("admin:accounts_user_changelist"), {"q": "customer@"})

    assert listing.status_code == 200
    assert "customer@example.com" in listing.content.decode()


def test_order_managers_cannot_change_or_add_customers(client):
    customer = UserFactory(email="customer@example.com", full_name="Original")
    client.force_login(order_manager())

    change = client.post(
        reverse("admin:accounts_user_change", args=[customer.pk]),
        {"email": "customer@example.com", "full_name": "Changed", "is_staff": "on"},
    )
    add = client.get(reverse("admin:accounts_user_add"))

    assert change.status_code == 403
    assert add.status_code == 403
    customer.refresh_from_db()
    assert customer.full_name == "Original"
    assert not customer.is_staff


def test_catalog_managers_cannot_see_customers(client):
    client.force_login(catalog_manager())
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_staff_without_a_group_see_no_models(client):
    client.force_login(StaffFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["app_list"] == []


def test_superuser_adding_a_customer_in_other_case_is_refused(client):
    UserFactory(email="ada@example.com")
    client.force_login(StaffFactory(is_superuser=True))

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "ADA@example.com",
            "full_name": "Copy",
            "usable_password": "true",
            "password1": "a-walk-in-the-orchard-42",
            "password2": "a-walk-in-the-orchard-42",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email="ada@example.com").count() == 1


def test_superuser_adds_a_customer_with_a_lower_cased_email(client):
    client.force_login(StaffFactory(is_superuser=True))
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a-walk-in-the-orchard-42",
            "password2": "a-walk-in-the-orchard-42",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new.person@example.com").exists()
