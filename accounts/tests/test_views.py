"""Registration, login, logout, password pages and the account page, through their URLs."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from shop.models import Email
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

STRONG = "a-walk-in-the-orchard-42"


def register(client, **overrides):
    data = {
        "email": "Ada@Example.com",
        "full_name": "Ada Lovelace",
        "password1": STRONG,
        "password2": STRONG,
        **overrides,
    }
    return client.post(reverse("accounts:register"), data)


def test_registration_creates_the_account_and_logs_the_shopper_in(client):
    response = register(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:account")
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert user.full_name == "Ada Lovelace"
    assert user.check_password(STRONG)
    assert client.session[SESSION_KEY] == str(user.pk)


def test_registration_follows_a_local_next(client):
    response = register(client, next="/accounts/password/change/")
    assert response["Location"] == "/accounts/password/change/"


def test_registration_ignores_a_next_on_another_host(client):
    response = register(client, next="https://evil.example.net/steal")
    assert response["Location"] == reverse("accounts:account")


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@EXAMPLE.COM", " Ada@example.com "])
def test_registration_refuses_an_email_taken_in_any_letter_case(client, email):
    UserFactory(email="ada@example.com")

    response = register(client, email=email)

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"password1": "password", "password2": "password"}, "password2"),
        ({"email": "x" * 300 + "@example.com"}, "email"),
    ],
)
def test_registration_with_bad_input_shows_the_form_again(client, overrides, field):
    response = register(client, **overrides)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert User.objects.count() == 0


def test_login_with_the_right_password_in_any_case_of_email(client):
    user = UserFactory(email="grace@example.com")

    response = client.post(
        reverse("accounts:login"), {"username": "Grace@EXAMPLE.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_a_wrong_password_shows_a_message(client):
    UserFactory(email="grace@example.com")

    response = client.post(
        reverse("accounts:login"), {"username": "grace@example.com", "password": "wrong"}
    )

    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("data", [{}, {"username": "grace@example.com"}, {"password": "x"}])
def test_login_with_missing_fields_shows_the_form_again(client, data):
    response = client.post(reverse("accounts:login"), data)
    assert response.status_code == 200
    assert response.context["form"].errors


def test_login_of_an_inactive_account_is_refused(client):
    UserFactory(email="gone@example.com", is_active=False)
    client.post(reverse("accounts:login"), {"username": "gone@example.com", "password": PASSWORD})
    assert SESSION_KEY not in client.session


def test_logout_by_post_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert SESSION_KEY not in client.session


def test_logout_by_get_is_refused_and_keeps_the_session(client):
    client.force_login(UserFactory())

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert SESSION_KEY in client.session


@pytest.mark.parametrize(
    "url", ["accounts:account", "accounts:password_change"], ids=["account", "password"]
)
def test_anonymous_visitors_are_sent_to_login_with_next(client, url):
    path = reverse(url)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={path}"


def test_login_follows_a_local_next(client):
    UserFactory(email="grace@example.com")
    response = client.post(
        reverse("accounts:login"),
        {
            "username": "grace@example.com",
            "password": PASSWORD,
            "next": "/accounts/password/change/",
        },
    )
    assert response["Location"] == "/accounts/password/change/"


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example.net/",
        "//evil.example.net/",
        "/\\evil.example.net",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_a_next_that_leaves_the_site(client, hostile):
    UserFactory(email="grace@example.com")
    response = client.post(
        reverse("accounts:login"),
        {"username": "grace@example.com", "password": PASSWORD, "next": hostile},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:account")


def test_password_reset_mails_a_working_link(client):
    user = UserFactory(email="grace@example.com")

    response = client.post(reverse("accounts:password_reset"), {"email": "GRACE@example.com"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []  # queued in the outbox, sent by its worker
    deliver_queued()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "fresh-orchard-apples-7", "new_password2": "fresh-orchard-apples-7"},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("fresh-orchard-apples-7")


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert not Email.objects.exists()


def test_password_reset_with_a_malformed_email_shows_the_form_again(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "not an email"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]


def test_password_reset_link_with_a_forged_token_says_the_link_expired(client):
    response = client.get("/accounts/password/reset/MQ/forged-token/", follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "expired" in response.content.decode()


def test_password_change_needs_the_old_password(client):
    user = UserFactory()
    client.force_login(user)

    refused = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": STRONG, "new_password2": STRONG},
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors["old_password"]

    accepted = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert accepted["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_account_page_shows_and_saves_the_shoppers_details(client):
    user = UserFactory(email="grace@example.com", full_name="Grace Hopper")
    client.force_login(user)

    page = client.get(reverse("accounts:account"))
    assert "grace@example.com" in page.content.decode()

    response = client.post(
        reverse("accounts:account"), {"full_name": "Grace B. Hopper"}, follow=True
    )
    user.refresh_from_db()
    assert user.full_name == "Grace B. Hopper"
    assert "Your details are saved." in response.content.decode()


def test_account_page_refuses_an_overlong_name(client):
    user = UserFactory(full_name="Grace")
    client.force_login(user)
    response = client.post(reverse("accounts:account"), {"full_name": "x" * 151})
    assert response.status_code == 200
    assert response.context["form"].errors["full_name"]
    user.refresh_from_db()
    assert user.full_name == "Grace"


def test_forms_without_a_csrf_token_are_refused(client):
    csrf_client = client.__class__(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("accounts:register"), {"email": "a@example.com"})
    assert response.status_code == 403
    assert "Please try that again" in response.content.decode()
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("next_url", "location"), [("0", "0"), ("home", "home"), ("accounts:login", "/accounts/")]
)
def test_a_next_that_is_not_a_path_is_not_taken_for_a_url_name(client, next_url, location):
    client.force_login(UserFactory())
    response = client.post(reverse("accounts:register"), {"next": next_url})
    assert response.status_code == 302
    # A relative path on this site or the account page; never a view name looked up.
    assert response["Location"] == location
