"""The variant migrations run on a store that has products, carts and orders in it.

From the schema before variants (catalog 0003, cart 0001, orders 0002; whatever depends on
their later migrations goes back with them), rows are made through the historical models, then
everything is migrated forward to the latest: each product must become one variant with its SKU,
price and stock, and every cart line and order line must point at it, the order's snapshot as
it was. 10,000 more products ride along, to time the migration at the size of the demo store.
"""

import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from cart.models import CartItem
from catalog.models import Product, ProductVariant
from orders.models import OrderItem

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_VARIANTS = [
    ("catalog", "0003_catalog_version"),
    ("cart", "0001_initial"),
    ("orders", "0002_order_managers_permissions"),
]
# The last of the variant migrations, timed on their own (later ones, such as the catalogue's
# pictures, run after them to bring the schema to what the models say).
WITH_VARIANTS = [
    ("catalog", "0006_remove_product_sku_price_stock"),
    ("cart", "0004_remove_cartitem_product"),
    ("orders", "0005_remove_orderitem_product"),
]
BULK_PRODUCTS = 10_000
# The issue asks for seconds, not minutes; 10,000 products take about 2 s on the 2-core machine
# this was written on. Far above that, so a busy machine does not fail it, and far below what a
# product-by-product migration takes.
FORWARD_SECONDS_AT_MOST = 60


def migrate(targets):
    """Migrate to `targets`; returns the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # re-read what is applied now
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def before_variants():
    """The database at the schema before variants; put back at the latest afterwards, whatever
    happened, so the rest of the suite finds it as it expects."""
    try:
        yield migrate(BEFORE_VARIANTS)
    finally:
        migrate(latest())


def make_old_store(apps):
    """Products, carts and an order as the store before variants made them."""
    Category = apps.get_model("catalog", "Category")
    Product = apps.get_model("catalog", "Product")
    User = apps.get_model("accounts", "User")
    Cart = apps.get_model("cart", "Cart")
    CartItem = apps.get_model("cart", "CartItem")
    Order = apps.get_model("orders", "Order")
    OrderItem = apps.get_model("orders", "OrderItem")

    lamps = Category.objects.create(name="Lamps", slug="lamps")
    old = timezone.now() - timezone.timedelta(days=400)
    lamp = Product.objects.create(
        category=lamps, name="Lamp", slug="lamp", sku="LAMP-1", price=Decimal("12.50"), stock=7,
        created=old,
    )  # fmt: skip
    mug = Product.objects.create(
        category=lamps, name="Mug", slug="mug", sku="MUG-1", price=Decimal("4.00"), stock=0
    )
    retired = Product.objects.create(
        category=lamps, name="Retired", slug="retired", sku="OLD-1", price=Decimal("99.99"),
        stock=3, is_active=False,
    )  # fmt: skip
    Product.objects.bulk_create(
        Product(
            category=lamps, name=f"Bulk {n}", slug=f"bulk-{n}", sku=f"BULK-{n:05d}",
            price=Decimal(100 + n) / 100, stock=n % 50,
        )
        for n in range(BULK_PRODUCTS)
    )  # fmt: skip

    ada = User.objects.create(email="ada@example.com", password="!")
    cart = Cart.objects.create(user=ada)
    CartItem.objects.create(cart=cart, product=lamp, quantity=2)
    CartItem.objects.create(cart=cart, product=mug, quantity=1)
    guest = Cart.objects.create(session_key="guest-session")
    CartItem.objects.create(cart=guest, product=retired, quantity=1)

    order = Order.objects.create(
        number="ABCDE-23456", user=ada, email="ada@example.com", status="paid", currency="USD",
        subtotal=Decimal("23.00"), shipping=Decimal("5.00"), total=Decimal("28.00"),
        full_name="Ada Lovelace", address_line1="12 St James's Square", city="London",
        postal_code="SW1Y 4JH", country="GB", checkout_token=uuid.uuid4(),
    )  # fmt: skip
    # Sold at last year's name and price: the snapshot differs from the product today.
    OrderItem.objects.create(
        order=order, product=lamp, product_name="Desk lamp", product_sku="LAMP-OLD",
        unit_price=Decimal("11.00"), quantity=1, line_total=Decimal("11.00"),
    )  # fmt: skip
    OrderItem.objects.create(
        order=order, product=retired, product_name="Retired", product_sku="OLD-1",
        unit_price=Decimal("12.00"), quantity=1, line_total=Decimal("12.00"),
    )  # fmt: skip
    products = {
        p.pk: (p.sku, p.price, p.stock, p.is_active, p.created) for p in Product.objects.all()
    }
    cart_lines = {
        item.pk: (item.cart_id, item.product_id, item.quantity) for item in CartItem.objects.all()
    }
    order_lines = {
        item.pk: (
            item.order_id, item.product_id, item.product_name, item.product_sku,
            item.unit_price, item.quantity, item.line_total,
        )
        for item in OrderItem.objects.all()
    }  # fmt: skip
    return products, cart_lines, order_lines


def test_every_product_becomes_one_variant_and_carts_and_orders_follow(before_variants):
    products, cart_lines, order_lines = make_old_store(before_variants)
    assert len(products) == BULK_PRODUCTS + 3

    started = time.monotonic()
    migrate(WITH_VARIANTS)
    seconds = time.monotonic() - started
    print(f"\nvariant migrations forward, {len(products):,} products: {seconds:.2f} s")
    migrate(latest())

    variants = list(ProductVariant.objects.values_list(
        "product_id", "sku", "price", "stock", "is_active", "combination", "label", "created",
    ))  # fmt: skip
    assert len(variants) == len(products)  # one each, none left out or made twice
    expected = {
        pk: (sku, price, stock, created) for pk, (sku, price, stock, _, created) in products.items()
    }
    assert {
        product_id: (sku, price, stock, created)
        for product_id, sku, price, stock, _, _, _, created in variants
    } == expected
    # Sold whenever its product is: the product keeps its own switch (the retired one, off).
    assert {active for _, _, _, _, active, _, _, _ in variants} == {True}
    assert {(combination, label) for *_, combination, label, _ in variants} == {("", "")}
    assert dict(Product.objects.values_list("pk", "is_active")) == {
        pk: active for pk, (_, _, _, active, _) in products.items()
    }
    # The "from" and "to" prices are the one variant's price.
    assert {pk: (low, high) for pk, low, high in Product.objects.values_list(
        "pk", "price_min", "price_max"
    )} == {pk: (price, price) for pk, (_, price, _, _, _) in products.items()}  # fmt: skip

    variant_of = dict(ProductVariant.objects.values_list("product_id", "pk"))
    assert {
        item.pk: (item.cart_id, item.variant_id, item.quantity) for item in CartItem.objects.all()
    } == {
        pk: (cart, variant_of[product], quantity)
        for pk, (cart, product, quantity) in cart_lines.items()
    }
    assert {
        item.pk: (
            item.order_id, item.variant_id, item.product_name, item.product_sku,
            item.unit_price, item.quantity, item.line_total, item.variant_label,
        )
        for item in OrderItem.objects.all()
    } == {
        pk: (order, variant_of[product], *snapshot, "")
        for pk, (order, product, *snapshot) in order_lines.items()
    }  # fmt: skip
    assert OrderItem.objects.get(product_sku="LAMP-OLD").name == "Desk lamp"

    assert seconds < FORWARD_SECONDS_AT_MOST, f"{seconds:.1f} s for {len(products):,} products"
