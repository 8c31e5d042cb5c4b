"""Payments in the back office: an order's page shows its payment attempts and offers refunds."""

import pytest
from django.urls import reverse

from accounts.tests.factories import order_manager
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payments.services import payment_start

pytestmark = pytest.mark.django_db


def test_the_order_page_shows_its_payment_attempts_and_the_list_offers_refunds(client, settings):
    settings.PAYMENT_BACKEND = "local"
    order = place_order([(ProductFactory(), 1)])
    payment = payment_start(order=order, success_url="/done/", cancel_url="/cancelled/")
    client.force_login(order_manager())

    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    listing = client.get(reverse("admin:orders_order_changelist"))

    inlines = [
        formset.opts.model._meta.model_name for formset in page.context["inline_admin_formsets"]
    ]
    assert inlines == ["orderitem", "orderevent", "payment"]
    assert payment.session_id in page.content.decode()
    actions = [name for name, _ in listing.context["action_form"].fields["action"].choices]
    assert "refund" in actions
    assert "mark_shipped" in actions
