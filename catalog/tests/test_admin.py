"""The catalogue back office: who may do what, uploads, actions, and safe stock edits."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import catalog_manager, order_manager
from catalog.models import Category, Product
from catalog.tests.factories import CategoryFactory, ProductFactory, image_upload

pytestmark = pytest.mark.django_db


def product_form(category, **overrides):
    return {
        "name": "Copper kettle",
        "slug": "copper-kettle",
        "sku": "KET-1",
        "category": category.pk,
        "description": "Boils water.",
        "price": "45.00",
        "stock": "12",
        "is_active": "on",
        **overrides,
    }


@pytest.fixture
def manager_client(client):
    client.force_login(catalog_manager())
    return client


def test_catalog_managers_create_a_product_with_an_image(manager_client):
    category = CategoryFactory()

    response = manager_client.post(
        reverse("admin:catalog_product_add"), product_form(category, image=image_upload())
    )

    assert response.status_code == 302
    product = Product.objects.get(slug="copper-kettle")
    assert product.price == Decimal("45.00")
    assert product.image.name.startswith("products/")
    assert product.image.name.endswith(".png")
    detail = manager_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert product.image.url in detail.content.decode()


def test_catalog_managers_edit_and_delete_products_and_categories(manager_client):
    product = ProductFactory()
    category = CategoryFactory()

    listing = manager_client.get(reverse("admin:catalog_product_changelist"))
    delete = manager_client.post(
        reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"}
    )
    add_category = manager_client.post(
        reverse("admin:catalog_category_add"), {"name": "Bath", "slug": "bath"}
    )
    edit_category = manager_client.post(
        reverse("admin:catalog_category_change", args=[category.pk]),
        {"name": "Renamed", "slug": category.slug},
    )

    assert listing.status_code == 200
    assert delete.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()
    assert add_category.status_code == 302
    assert Category.objects.filter(slug="bath").exists()
    assert edit_category.status_code == 302
    category.refresh_from_db()
    assert category.name == "Renamed"


def test_order_managers_cannot_see_or_change_the_catalogue(client):
    product = ProductFactory(name="Original")
    client.force_login(order_manager())

    assert client.get(reverse("admin:catalog_product_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_category_changelist")).status_code == 403
    change = client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form(product.category, name="Changed", slug=product.slug, sku=product.sku),
    )
    assert change.status_code == 403
    product.refresh_from_db()
    assert product.name == "Original"


def test_product_list_columns_search_and_filters(manager_client):
    ProductFactory(name="Copper kettle", sku="KET-1", stock=0)
    ProductFactory(name="Tea towel", sku="TOW-1", stock=5)

    by_sku = manager_client.get(reverse("admin:catalog_product_changelist"), {"q": "KET-1"})
    out = manager_client.get(reverse("admin:catalog_product_changelist"), {"stock": "out"})

    assert [p.name for p in by_sku.context["cl"].result_list] == ["Copper kettle"]
    assert [p.name for p in out.context["cl"].result_list] == ["Copper kettle"]
    html = by_sku.content.decode()
    for column in ("SKU", "Category", "Price", "Stock", "Active"):
        assert column in html


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("notes.png", b"just some text, not a picture", "image/png"),
            "Upload a valid image",
        ),
        (image_upload("photo.bmp", "BMP"), "not accepted"),
        (image_upload("huge.png", size=(6001, 10)), "the limit is 6000"),
    ],
    ids=["text-renamed-png", "bmp", "too-wide"],
)
def test_bad_image_uploads_are_refused_with_a_message(manager_client, upload, message):
    category = CategoryFactory()

    response = manager_client.post(
        reverse("admin:catalog_product_add"), product_form(category, image=upload)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Product.objects.exists()


def test_an_image_over_the_size_limit_is_refused(manager_client, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 100
    response = manager_client.post(
        reverse("admin:catalog_product_add"),
        product_form(CategoryFactory(), image=image_upload(size=(200, 200))),
    )
    assert response.status_code == 200
    assert "the limit is 100" in response.content.decode()
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "0"), ("price", "-5"), ("price", "abc"), ("stock", "-1"), ("sku", "")],
)
def test_bad_values_give_the_form_back(manager_client, field, value):
    response = manager_client.post(
        reverse("admin:catalog_product_add"), product_form(CategoryFactory(), **{field: value})
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert not Product.objects.exists()


def test_bulk_activate_and_deactivate(manager_client):
    products = ProductFactory.create_batch(3, is_active=True)
    url = reverse("admin:catalog_product_changelist")
    selected = [p.pk for p in products[:2]]

    manager_client.post(url, {"action": "deactivate", "_selected_action": selected})
    assert set(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == set(
        selected
    )

    manager_client.post(url, {"action": "activate", "_selected_action": selected})
    assert Product.objects.filter(is_active=True).count() == 3


def test_a_stock_edit_keeps_sales_made_while_the_form_was_open(manager_client):
    product = ProductFactory(stock=10, price=Decimal("5.00"))
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = manager_client.get(url).content.decode()
    assert 'name="stock_seen" value="10"' in page

    # A shopper buys 3 while the manager is typing.
    Product.objects.filter(pk=product.pk).update(stock=7)
    response = manager_client.post(
        url,
        product_form(
            product.category,
            name=product.name,
            slug=product.slug,
            sku=product.sku,
            stock="15",
            stock_seen="10",
        ),
        follow=True,
    )

    product.refresh_from_db()
    assert product.stock == 12  # the manager added 5 to what was really there
    assert "Stock changed while you were editing" in response.content.decode()


def test_editing_the_price_does_not_touch_stock(manager_client):
    product = ProductFactory(stock=10, price=Decimal("5.00"))
    url = reverse("admin:catalog_product_change", args=[product.pk])
    manager_client.get(url)
    Product.objects.filter(pk=product.pk).update(stock=4)

    manager_client.post(
        url,
        product_form(
            product.category,
            name=product.name,
            slug=product.slug,
            sku=product.sku,
            stock="10",
            stock_seen="10",
            price="6.50",
        ),
    )

    product.refresh_from_db()
    assert product.price == Decimal("6.50")
    assert product.stock == 4


def test_a_stock_reduction_larger_than_what_is_left_stops_at_zero(manager_client):
    product = ProductFactory(stock=10)
    Product.objects.filter(pk=product.pk).update(stock=2)

    manager_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form(
            product.category,
            name=product.name,
            slug=product.slug,
            sku=product.sku,
            stock="5",
            stock_seen="10",
        ),
    )

    product.refresh_from_db()
    assert product.stock == 0


def edit_stock(client, product, stock, stock_seen):
    return client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form(
            product.category,
            name=product.name,
            slug=product.slug,
            sku=product.sku,
            stock=stock,
            stock_seen=stock_seen,
        ),
        follow=True,
    )


@pytest.mark.parametrize(
    "stock_seen", ["-1", "2147483648", "99999999999999999999", "-99999999999999999999"]
)
def test_a_stock_seen_out_of_range_gives_the_form_back_with_a_message(manager_client, stock_seen):
    product = ProductFactory(stock=10)

    response = edit_stock(manager_client, product, "15", stock_seen)

    assert response.status_code == 200
    assert "open the product again and repeat your change" in response.content.decode()
    product.refresh_from_db()
    assert product.stock == 10


def test_a_stock_edit_that_would_overflow_the_column_is_capped_with_a_message(manager_client):
    product = ProductFactory(stock=0)
    Product.objects.filter(pk=product.pk).update(stock=10)  # a restock while the form was open

    response = edit_stock(manager_client, product, "2147483647", "0")

    assert response.status_code == 200
    assert "Stock cannot go above 2,147,483,647" in response.content.decode()
    product.refresh_from_db()
    assert product.stock == 2_147_483_647
