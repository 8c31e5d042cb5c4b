"""The shopper and staff journeys, through what a person sees: labels, roles, button text."""

import re
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory, catalog_manager, order_manager
from catalog.models import ProductImage
from catalog.tests.factories import CategoryFactory, ProductFactory, image_upload, only_variant
from e2e.conftest import log_in
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import fill_cart, place_order
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue():
    garden = CategoryFactory(name="Garden", slug="garden")
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    return {
        "lantern": ProductFactory(
            name="Brass Lantern", category=garden, price=Decimal("30.00"), stock=5
        ),
        "trowel": ProductFactory(
            name="Garden Trowel", category=garden, price=Decimal("12.00"), stock=5
        ),
        "kettle": ProductFactory(
            name="Copper Kettle", category=kitchen, price=Decimal("45.00"), stock=5
        ),
    }


def test_a_shopper_registers_shops_checks_out_and_pays(page: Page, live_server, catalogue):
    page.goto(live_server.url)
    page.get_by_role("link", name="Create account").click()
    page.get_by_label("Email address").fill("grace@example.com")
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Password", exact=True).fill("cobol-and-nanoseconds-1906")
    page.get_by_label("Password confirmation").fill("cobol-and-nanoseconds-1906")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()

    page.get_by_role("searchbox", name="Search products").fill("lantern")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Results for “lantern”")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"Add to cart\W+Brass Lantern")).click()
    expect(page.get_by_text("Added 1 × Brass Lantern to your cart.")).to_be_visible()

    page.get_by_role("link", name="All products").click()
    page.get_by_label("Category").select_option(label="Garden")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="Garden", level=1)).to_be_visible()
    expect(page.get_by_text("Copper Kettle")).to_have_count(0)
    page.get_by_role("button", name=re.compile(r"Add to cart\W+Garden Trowel")).click()

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    page.get_by_label("Quantity of Brass Lantern").fill("2")
    page.get_by_role("button", name=re.compile(r"Update\W+Brass Lantern")).click()
    expect(page.get_by_text("Updated Brass Lantern to 2.")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"Remove\W+Garden Trowel")).click()
    expect(page.get_by_text("Removed Garden Trowel from your cart.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Estimated total \$"))).to_contain_text(
        "$60.00"
    )

    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Address line 1").fill("1 Navy Yard")
    page.get_by_label("City").fill("Arlington")
    page.get_by_label("Postal code").fill("22202")
    page.get_by_label("Country").select_option(label="United States of America")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name="Test payment")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", name="Thank you! Your payment is confirmed")).to_be_visible()

    page.get_by_role("link", name="Your orders").click()
    order = Order.objects.get()
    row = page.get_by_role("row", name=re.compile(order.number))
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("$60.00")
    assert only_variant(catalogue["lantern"]).stock == 3


def test_a_guest_fills_a_cart_logs_in_and_finds_it_merged(page: Page, live_server, catalogue):
    user = UserFactory(email="ada@example.com")
    place_order([(catalogue["kettle"], 1)], user=user)  # an earlier order, not a cart line
    fill_cart(user, [(catalogue["trowel"], 1)])  # left in the cart on another device

    page.goto(f"{live_server.url}/products/")
    page.get_by_role("button", name=re.compile(r"Add to cart\W+Brass Lantern")).click()
    page.get_by_role("button", name=re.compile(r"Add to cart\W+Garden Trowel")).click()
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_contain_text("(2")

    log_in(page, live_server, "ada@example.com")
    page.get_by_role("link", name=re.compile(r"^Cart")).click()

    expect(page.get_by_label("Quantity of Brass Lantern")).to_have_value("1")
    expect(page.get_by_label("Quantity of Garden Trowel")).to_have_value("2")
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_contain_text("(3")


def test_a_failed_payment_leaves_the_order_failed_and_the_stock_back(
    page: Page, live_server, catalogue
):
    UserFactory(email="ada@example.com")
    log_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server.url}{catalogue['kettle'].get_absolute_url()}")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.goto(f"{live_server.url}/checkout/")
    page.get_by_label("Address line 1").fill("1 Analytical Row")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("W1 1AA")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_role("button", name="Place order").click()
    assert only_variant(catalogue["kettle"]).stock == 3

    page.get_by_role("button", name="Fail the payment").click()

    expect(page.get_by_role("heading", name="Your payment did not go through")).to_be_visible()
    page.get_by_role("link", name=re.compile("View order")).click()
    expect(page.get_by_text("Payment failed").first).to_be_visible()
    expect(page.get_by_role("button", name="Put these items back in my cart")).to_be_visible()
    assert only_variant(catalogue["kettle"]).stock == 5
    assert Order.objects.get().status == OrderStatus.PAYMENT_FAILED


def test_staff_add_a_product_and_ship_an_order(page: Page, live_server, catalogue, tmp_path):
    catalog_manager(email="cat@example.com")
    order_manager(email="orders@example.com")
    customer = UserFactory(email="ada@example.com")
    order = place_order([(catalogue["trowel"], 1)], user=customer)
    order_transition(order=order, to=OrderStatus.PAID, source="test")
    picture = tmp_path / "teapot.png"
    picture.write_bytes(image_upload(size=(1000, 750)).read())

    log_in(page, live_server, "cat@example.com")
    page.goto(f"{live_server.url}/admin/catalog/product/add/")
    page.get_by_label("Name:").fill("Stoneware Teapot")
    page.get_by_label("Category:").select_option(label="Kitchen")
    # The product's one variant and its picture, in their tables (rows by their column names;
    # the hidden row is the template "Add another" copies).
    variant = page.get_by_role("group", name="Product variants")
    variant.get_by_label("SKU").filter(visible=True).fill("TEA-1")
    variant.get_by_label("Price").filter(visible=True).fill("28.50")
    variant.get_by_label("Stock").filter(visible=True).fill("7")
    pictures = page.get_by_role("group", name=re.compile(r"^Pictures"))
    pictures.get_by_label("Picture", exact=True).filter(visible=True).set_input_files(str(picture))
    pictures.get_by_label("Alt text").filter(visible=True).fill("The teapot from the side")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    page.goto(f"{live_server.url}/products/?category=kitchen")
    page.get_by_role("link", name="Stoneware Teapot").click()
    expect(page.get_by_role("heading", name="Stoneware Teapot")).to_be_visible()
    expect(page.get_by_text("$28.50")).to_be_visible()
    teapot = ProductImage.objects.get(product__name="Stoneware Teapot")
    shown = page.get_by_role("img", name="The teapot from the side")
    # The original until the worker has made the renditions, then the 800 px one.
    expect(shown).to_have_attribute("src", default_storage.url(teapot.image.name))
    with transaction.atomic():  # as the worker takes its tasks
        deliver_queued()
    teapot.refresh_from_db()
    [medium] = [f for f in teapot.renditions["files"] if (f["format"], f["width"]) == ("PNG", 800)]
    page.reload()
    expect(shown).to_have_attribute("src", default_storage.url(medium["name"]))

    log_in(page, live_server, "orders@example.com")
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.get_by_role("row", name=re.compile(order.number)).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Marked shipped (selected orders)")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text(f"Marked shipped: {order.number}.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "ada@example.com")
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("row", name=re.compile(order.number))).to_contain_text("Shipped")
