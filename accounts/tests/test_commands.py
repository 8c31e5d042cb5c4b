"""`manage.py seed_admin`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "a-strong-admin-secret-91"


def seed(*args, **env):
    out = StringIO()
    call_command("seed_admin", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def admin_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Owner@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", SECRET)


def test_creates_the_superuser_from_the_environment_without_printing_the_password(admin_env):
    output = seed()

    user = User.objects.get()
    assert user.email == "owner@example.com"
    assert user.is_superuser
    assert user.is_staff
    assert user.is_active
    assert user.check_password(SECRET)
    assert "owner@example.com" in output
    assert "DJANGO_SUPERUSER_PASSWORD" in output
    assert SECRET not in output


def test_running_twice_changes_nothing(admin_env):
    seed()
    before = User.objects.values().get()

    output = seed()

    assert User.objects.values().get() == before
    assert "already up to date" in output


def test_flags_take_precedence_over_the_environment(admin_env):
    output = seed("--email", "boss@example.com", "--password", "another-strong-secret-7")
    user = User.objects.get()
    assert user.email == "boss@example.com"
    assert user.check_password("another-strong-secret-7")
    assert "--password" in output
    assert "another-strong-secret-7" not in output


def test_promotes_an_existing_account_and_sets_its_password(admin_env):
    UserFactory(email="owner@example.com")

    output = seed()

    user = User.objects.get()
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password(SECRET)
    assert "Updated" in output


def test_dry_run_writes_nothing(admin_env):
    output = seed("--dry-run")
    assert "Would have" in output
    assert not User.objects.exists()


def test_a_missing_email_or_password_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_EMAIL"):
        seed()
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        seed("--email", "owner@example.com")
    assert not User.objects.exists()


def test_a_weak_password_is_refused(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "owner@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "password")
    with pytest.raises(CommandError, match="refused"):
        seed()
    assert not User.objects.exists()
