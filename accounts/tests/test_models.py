"""The user model's guarantees: one account per email, hashes that upgrade."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
]


def test_email_is_stored_in_lower_case():
    user = User.objects.create_user("Ada@Example.COM", "pw")
    assert user.email == "ada@example.com"


def test_the_database_refuses_a_second_account_differing_only_in_case():
    UserFactory(email="ada@example.com")
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, full_name, is_staff,"
            " is_active, date_joined) VALUES ('', false, 'ADA@example.com', '', false, true, now())"
        )


def test_the_database_refuses_a_bulk_written_duplicate():
    UserFactory(email="ada@example.com")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="ada@example.com")])


def test_new_passwords_are_hashed_with_argon2id(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = User.objects.create_user("ada@example.com", "a-long-enough-secret")
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize("algorithm", ["bcrypt_sha256", "pbkdf2_sha256"])
def test_an_imported_hash_logs_in_and_is_upgraded_to_argon2(settings, algorithm):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = UserFactory(email="imported@example.com")
    User.objects.filter(pk=user.pk).update(
        password=make_password("from-the-old-shop", hasher=algorithm)
    )

    assert authenticate(username="IMPORTED@example.com", password="from-the-old-shop") == user

    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("from-the-old-shop")


def test_full_name_falls_back_to_email():
    assert UserFactory(email="a@example.com", full_name="").get_full_name() == "a@example.com"
    assert UserFactory(full_name="Ada Lovelace").get_short_name() == "Ada"
