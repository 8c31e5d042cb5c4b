"""`manage.py delete_abandoned_carts`."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cart.models import Cart
from cart.tests.factories import CartFactory

pytestmark = pytest.mark.django_db


def test_deletes_old_guest_carts_only():
    old = timezone.now() - timedelta(days=40)
    old_guest = Cart.objects.create(session_key="old")
    recent_guest = Cart.objects.create(session_key="recent")
    old_user_cart = CartFactory()
    Cart.objects.filter(pk__in=[old_guest.pk, old_user_cart.pk]).update(updated=old)

    dry = StringIO()
    call_command("delete_abandoned_carts", "--days", "30", "--dry-run", stdout=dry)
    assert "Would delete 1 guest cart(s)" in dry.getvalue()
    assert Cart.objects.count() == 3

    call_command("delete_abandoned_carts", "--days", "30", stdout=StringIO())

    assert set(Cart.objects.values_list("pk", flat=True)) == {recent_guest.pk, old_user_cart.pk}


def test_a_cart_belongs_to_a_user_or_a_session_never_both_or_neither():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Cart.objects.create()
