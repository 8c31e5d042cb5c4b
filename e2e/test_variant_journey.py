"""A shopper finds a shirt by its options, chooses a size and colour, and pays for that variant."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from catalog.models import ProductVariant
from catalog.services import product_prices_refresh
from catalog.tests.factories import CategoryFactory, ProductFactory, product_with_options
from e2e.conftest import log_in
from orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shirts():
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    shirt = product_with_options(
        "Linen Shirt",
        {"Size": ["S", "M", "L"], "Colour": ["Navy", "Sand"]},
        price=Decimal("30.00"),
        stock=4,
        category=clothing,
    )
    # L costs more: the card says "From".
    ProductVariant.objects.filter(product=shirt, label__startswith="Size: L").update(
        price=Decimal("34.00")
    )
    product_prices_refresh(product=shirt)
    # Sand in M is sold out.
    ProductVariant.objects.filter(product=shirt, label="Size: M / Colour: Sand").update(stock=0)
    hat = product_with_options("Wool Hat", {"Size": ["S"]}, category=clothing)
    ProductFactory(name="Canvas Bag", category=clothing, price=Decimal("15.00"))
    return {"shirt": shirt, "hat": hat}


def test_a_shopper_filters_chooses_size_and_colour_and_pays(page: Page, live_server, shirts):
    UserFactory(email="ada@example.com")
    log_in(page, live_server, "ada@example.com")

    page.goto(f"{live_server.url}/products/?category=clothing")
    expect(page.get_by_text("From $30.00")).to_be_visible()
    page.get_by_label(re.compile(r"^M\b")).check()
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Linen Shirt", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Canvas Bag", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Wool Hat", exact=True)).to_have_count(0)

    page.get_by_role("link", name=re.compile(r"Choose options\W+Linen Shirt")).click()
    expect(page.get_by_role("heading", name="Linen Shirt")).to_be_visible()
    page.get_by_label("Size").select_option(label="M")
    page.get_by_label("Colour").select_option(label="Sand")
    expect(page.get_by_text("Out of stock in this combination")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Add to cart"))).to_be_disabled()
    page.get_by_label("Colour").select_option(label="Navy")
    expect(page.get_by_text("In stock", exact=True)).to_be_visible()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name=re.compile("Add to cart")).click()
    expect(
        page.get_by_text("Added 2 × Linen Shirt (Size: M / Colour: Navy) to your cart.")
    ).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(page.get_by_role("row", name=re.compile("Linen Shirt"))).to_contain_text(
        "Size: M / Colour: Navy"
    )
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address line 1").fill("12 St James's Square")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("SW1Y 4JH")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Test payment")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", name="Thank you! Your payment is confirmed")).to_be_visible()

    page.get_by_role("link", name=re.compile("View order")).click()
    expect(page.get_by_role("row", name=re.compile("Linen Shirt"))).to_contain_text(
        "Size: M / Colour: Navy"
    )
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    [line] = order.items.all()
    assert (line.variant_label, line.quantity) == ("Size: M / Colour: Navy", 2)
    assert ProductVariant.objects.get(pk=line.variant_id).stock == 2


def test_without_javascript_the_server_refuses_a_sold_out_combination(browser, live_server, shirts):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}{shirts['shirt'].get_absolute_url()}")
    page.get_by_label("Size").select_option(label="M")
    page.get_by_label("Colour").select_option(label="Sand")
    page.get_by_role("button", name=re.compile("Add to cart")).click()
    expect(page.get_by_text("Linen Shirt (Size: M / Colour: Sand) is out of stock")).to_be_visible()
    context.close()
