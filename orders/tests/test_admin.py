"""The orders back office: who may do what, status actions, customers, the dashboard."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory, catalog_manager, order_manager
from catalog.models import Product, ProductVariant
from catalog.tests.factories import (
    ESCAPED_MARKUP_NAME,
    MARKUP_NAME,
    ProductFactory,
    only_variant,
    product_with_options,
)
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import place_order

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def manager_client(client):
    client.force_login(order_manager())
    return client


def act(client, action, *orders):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [o.pk for o in orders]}, follow=True
    )


def test_order_managers_list_search_and_filter_orders(manager_client):
    ada = UserFactory(email="ada@example.com")
    mine = place_order([(ProductFactory(), 1)], user=ada)
    place_order([(ProductFactory(), 1)])
    paid = place_order([(ProductFactory(), 1)])
    order_transition(order=paid, to=OrderStatus.PAID, source="test")

    by_number = manager_client.get(CHANGELIST, {"q": mine.number})
    by_email = manager_client.get(CHANGELIST, {"q": "ada@example"})
    by_status = manager_client.get(CHANGELIST, {"status__exact": "paid"})

    assert [o.pk for o in by_number.context["cl"].result_list] == [mine.pk]
    assert [o.pk for o in by_email.context["cl"].result_list] == [mine.pk]
    assert [o.pk for o in by_status.context["cl"].result_list] == [paid.pk]


def test_order_detail_shows_items_shipping_and_history_read_only(manager_client):
    order = place_order([(ProductFactory(name="Lamp"), 2)])

    page = manager_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = page.content.decode()

    assert page.status_code == 200
    assert "Lamp" in html
    assert "London" in html
    assert "checkout" in html  # the event's source
    assert 'name="status"' not in html  # no editable status field
    manager_client.post(
        reverse("admin:orders_order_change", args=[order.pk]), {"status": "delivered"}
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


def test_the_order_page_shows_each_lines_variant_as_sold(manager_client):
    shirt = product_with_options(name="Shirt", options={"Size": ["S", "M"]})
    medium = shirt.variants.get(label="Size: M")
    order = place_order([(medium, 2), (ProductFactory(name="Mug", sku="MUG-1"), 1)])
    # Renamed after the sale: the page shows what was sold, not today's label.
    ProductVariant.objects.filter(pk=medium.pk).update(label="Size: Medium")

    page = manager_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert page.status_code == 200
    [inline] = [
        formset for formset in page.context["inline_admin_formsets"]
        if formset.formset.model.__name__ == "OrderItem"
    ]  # fmt: skip
    shown = {
        (form.original.product_name, form.original.variant_label, form.original.product_sku)
        for form in inline
    }
    assert shown == {("Shirt", "Size: M", medium.sku), ("Mug", "", "MUG-1")}
    html = page.content.decode()
    labels = re.findall(r'class="field-variant_label">\s*<p>(.*?)</p>', html)
    assert sorted(labels) == ["-", "Size: M"]  # "-": the simple product has no label


def test_the_order_page_costs_the_same_queries_however_many_lines(manager_client):
    def queries(order):
        url = reverse("admin:orders_order_change", args=[order.pk])
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(url).status_code == 200
        return len(captured)

    one = place_order([(ProductFactory(), 1)])
    shirt = product_with_options(name="Shirt", options={"Size": ["S", "M", "L", "XL"]})
    four = place_order([(variant, 1) for variant in shirt.variants.all()])
    queries(one)  # the first page of the process fills caches (content types and the like)

    assert queries(four) == queries(one)


def test_actions_move_orders_through_the_transition_function(manager_client):
    order = place_order([(ProductFactory(), 1)])
    order_transition(order=order, to=OrderStatus.PAID, source="test")

    shipped = act(manager_client, "mark_shipped", order)
    delivered = act(manager_client, "mark_delivered", order)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert f"Marked shipped: {order.number}." in shipped.content.decode()
    assert f"Marked delivered: {order.number}." in delivered.content.decode()
    event = order.events.get(to_status=OrderStatus.SHIPPED)
    assert event.source == "back office"
    assert event.actor.groups.filter(name="Order managers").exists()


def test_refused_moves_are_reported_and_the_others_done(manager_client):
    product = ProductFactory(stock=10)
    unpaid = place_order([(product, 2)])
    paid = place_order([(product, 1)])
    order_transition(order=paid, to=OrderStatus.PAID, source="test")

    response = act(manager_client, "mark_shipped", unpaid, paid)

    html = response.content.decode()
    assert f"Order {unpaid.number} is awaiting payment and cannot become shipped." in html
    assert f"Marked shipped: {paid.number}." in html
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.PENDING_PAYMENT
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.SHIPPED


def test_cancel_action_gives_stock_back(manager_client):
    product = ProductFactory(stock=10)
    order = place_order([(product, 4)])
    act(manager_client, "mark_cancelled", order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert only_variant(product).stock == 10


def test_orders_cannot_be_added_or_deleted_in_the_admin(manager_client):
    order = place_order([(ProductFactory(), 1)])
    assert manager_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert (
        manager_client.post(
            reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Order.objects.filter(pk=order.pk).exists()


def test_catalog_managers_cannot_see_or_change_orders(client):
    order = place_order([(ProductFactory(), 1)])
    client.force_login(catalog_manager())

    assert client.get(CHANGELIST).status_code == 403
    client.post(CHANGELIST, {"action": "mark_cancelled", "_selected_action": [order.pk]})
    assert "Orders and revenue" not in client.get(reverse("dashboard")).content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


def test_order_managers_cannot_change_products(client):
    product = ProductFactory(name="Original")
    client.force_login(order_manager())
    assert client.get(reverse("admin:catalog_product_change", args=[product.pk])).status_code == 403


def test_customers_are_listed_with_order_count_and_total_spent(manager_client):
    ada = UserFactory(email="ada@example.com")
    product = ProductFactory(price=Decimal("10.00"), stock=50)
    for quantity in (1, 2):
        order = place_order([(product, quantity)], user=ada)
        order_transition(order=order, to=OrderStatus.PAID, source="test")
    place_order([(product, 5)], user=ada)  # unpaid: not spent

    listing = manager_client.get(reverse("admin:accounts_user_changelist"), {"q": "ada@"})

    customer = listing.context["cl"].result_list[0]
    assert customer.order_count == 3
    assert customer.total_spent == Decimal("40.00")  # 15.00 + 25.00 with shipping


def test_a_product_that_was_ordered_cannot_be_deleted_and_deactivation_is_offered(client):
    product = ProductFactory(name="Lamp")
    place_order([(product, 1)])
    client.force_login(catalog_manager())
    url = reverse("admin:catalog_product_delete", args=[product.pk])

    page = client.get(url)
    client.post(url, {"post": "yes"})

    assert "deactivate it instead" in page.content.decode()
    assert Product.objects.filter(pk=product.pk).exists()
    client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "deactivate", "_selected_action": [product.pk]},
    )
    assert not Product.objects.get(pk=product.pk).is_active


def test_dashboard_counts_orders_revenue_statuses_and_low_stock(manager_client, settings):
    settings.LOW_STOCK_THRESHOLD = 3
    product = ProductFactory(price=Decimal("20.00"), stock=10)
    paid = place_order([(product, 2)])
    order_transition(order=paid, to=OrderStatus.PAID, source="test")
    place_order([(product, 1)])
    low = ProductFactory(name="Nearly gone", stock=2)
    ProductFactory(name="Plenty", stock=50)

    page = manager_client.get(reverse("dashboard"))

    assert page.status_code == 200
    today = page.context["periods"][0]
    # Revenue is what customers paid, shipping included: 2 × 20.00 + 5.00.
    assert (today["placed"], today["count"], today["revenue"]) == (2, 1, Decimal("45.00"))
    assert dict(page.context["by_status"])["Awaiting payment"] == 1
    assert list(page.context["low_stock"]) == [only_variant(low)]
    assert "Nearly gone" in page.content.decode()


def test_the_dashboard_lists_low_stock_per_variant_of_what_is_sold(
    manager_client, settings, django_assert_max_num_queries
):
    settings.LOW_STOCK_THRESHOLD = 3
    shirt = product_with_options(name="Shirt", options={"Size": ["S", "M", "L"]}, stock=50)
    ProductVariant.objects.filter(product=shirt, label="Size: M").update(stock=1)
    ProductVariant.objects.filter(product=shirt, label="Size: L").update(stock=3)
    ProductFactory(name="Mug", stock=0)
    # Not sold, so not to restock: an inactive variant, a variant of an inactive product.
    retired = product_with_options(name="Retired", options={"Size": ["S"]}, stock=0)
    Product.objects.filter(pk=retired.pk).update(is_active=False)
    hat = product_with_options(name="Hat", options={"Size": ["S", "M"]}, stock=1)
    ProductVariant.objects.filter(product=hat, label="Size: M").update(is_active=False)
    for n in range(5):  # more low lines cost no more queries
        ProductFactory(name=f"Low {n}", stock=2)

    with django_assert_max_num_queries(20) as captured:
        page = manager_client.get(reverse("dashboard"))

    low = [(v.product.name, v.label, v.stock) for v in page.context["low_stock"]]
    assert low[:4] == [
        ("Mug", "", 0),
        ("Hat", "Size: S", 1),
        ("Shirt", "Size: M", 1),
        ("Low 0", "", 2),
    ]
    assert ("Shirt", "Size: L", 3) in low
    assert len(low) == 4 + 4 + 1  # Low 1-4 and Shirt L; no Shirt S, Retired or Hat M
    html = page.content.decode()
    assert "Shirt (Size: M)" in html
    assert shirt.variants.get(label="Size: M").sku in html
    assert "Retired" not in html
    assert "Hat (Size: M)" not in html
    variant_queries = [q for q in captured.captured_queries if "catalog_productvariant" in q["sql"]]
    assert len(variant_queries) == 1


def test_the_dashboard_is_for_staff_only(client):
    client.force_login(UserFactory())
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("admin:login"))


def test_a_product_name_with_markup_is_shown_escaped_on_the_back_office_order_page(
    manager_client,
):
    order = place_order([(ProductFactory(name=MARKUP_NAME), 1)])

    html = manager_client.get(reverse("admin:orders_order_change", args=[order.pk])).content
    html = html.decode()

    assert ESCAPED_MARKUP_NAME in html
    assert MARKUP_NAME not in html


def test_a_product_name_with_markup_is_shown_escaped_on_the_dashboard(manager_client, settings):
    settings.LOW_STOCK_THRESHOLD = 3
    ProductFactory(name=MARKUP_NAME, stock=1)

    html = manager_client.get(reverse("dashboard")).content.decode()

    assert ESCAPED_MARKUP_NAME in html
    assert MARKUP_NAME not in html
