"""Request bodies: too large is refused before it is read, files only where a form takes one."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.tests.factories import catalog_manager
from cart.models import CartItem
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, image_upload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BOUNDARY = "BoUnDaRyStRiNg"
# A few bytes of body that claim to be 400 MB: a view that read the body would fail, because the
# test client's payload refuses to be read past what it holds.
CLAIMED = str(400 * MB)
TINY_MULTIPART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="username"\r\n\r\n'
    "a@example.com\r\n"
    f"--{BOUNDARY}--\r\n"
).encode()


@pytest.fixture
def manager():
    client = Client()
    client.force_login(catalog_manager())
    return client


def product_form(**overrides):
    """The product add page filled in: a simple product (its one variant) and a picture row."""
    return {
        "name": "Copper kettle",
        "slug": "copper-kettle",
        "category": CategoryFactory().pk,
        "description": "Boils water.",
        "is_active": "on",
        "option_types-TOTAL_FORMS": "0",
        "option_types-INITIAL_FORMS": "0",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-0-sku": "KET-1",
        "variants-0-price": "45.00",
        "variants-0-stock": "12",
        "variants-0-is_active": "on",
        "variants-0-position": "0",
        "pictures-TOTAL_FORMS": "1",
        "pictures-INITIAL_FORMS": "0",
        "pictures-0-alt": "",
        "pictures-0-position": "0",
        **overrides,
    }


def multipart(fields, empty_file):
    """A body as a browser sends it, with a file input left empty."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{empty_file}"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def noise_png(size_bytes):
    """A real PNG of at least size_bytes: random pixels do not compress."""
    side = int((size_bytes / 3) ** 0.5) + 1
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")


@pytest.mark.parametrize(
    "url", ["accounts:login", "cart:add", "payments:webhook", "admin:catalog_product_add"]
)
def test_a_body_over_the_limit_gets_413_without_being_read(client, manager, url):
    visitor = manager if url.startswith("admin:") else client

    response = visitor.post(
        reverse(url),
        data=TINY_MULTIPART,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=CLAIMED,
    )

    assert response.status_code == 413
    html = response.content.decode()
    assert "too large" in html
    assert ("7.5\xa0MB" if url.startswith("admin:") else "2.5\xa0MB") in html
    assert response["Content-Security-Policy"]  # the page went out through every middleware


def test_a_3_mb_file_sent_to_add_to_cart_gets_413(client):
    product = ProductFactory()
    upload = SimpleUploadedFile("big.bin", b"x" * (3 * MB), content_type="image/png")

    response = client.post(
        reverse("cart:add"), {"product": product.pk, "quantity": 1, "picture": upload}
    )

    assert response.status_code == 413
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("url", ["cart:add", "accounts:login", "accounts:register"])
def test_a_file_part_sent_to_a_form_without_an_upload_is_refused_with_400(client, url):
    product = ProductFactory()
    form = {"product": product.pk, "quantity": 1, "username": "a@example.com"}

    with_a_file = client.post(
        reverse(url), {**form, "file": SimpleUploadedFile("note.txt", b"hello")}
    )
    # What a browser sends for a file input left empty is no upload, and is taken as before.
    with_an_empty_file_input = client.post(
        reverse(url),
        multipart(form, empty_file="file"),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )

    assert with_a_file.status_code == 400
    assert "We could not understand that request" in with_a_file.content.decode()
    assert with_an_empty_file_input.status_code in (200, 302)


def test_a_file_part_is_refused_with_400_when_the_csrf_check_is_what_reads_the_form():
    # In production the CSRF check is the first to read the body, in a middleware, not the view.
    browser = Client(enforce_csrf_checks=True)
    token = browser.get(reverse("accounts:login")).context["csrf_token"]

    response = browser.post(
        reverse("accounts:login"),
        {
            "csrfmiddlewaretoken": token,
            "username": "a@example.com",
            "password": "x",
            "file": SimpleUploadedFile("note.txt", b"hello"),
        },
    )

    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


def test_the_product_admin_takes_a_picture_and_answers_413_past_its_limit(manager, tmp_path):
    added = manager.post(
        reverse("admin:catalog_product_add"), product_form(**{"pictures-0-image": image_upload()})
    )
    product = Product.objects.get(slug="copper-kettle")
    first = product.pictures.get()
    changed = manager.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form(
            category=product.category_id,
            **{
                "variants-INITIAL_FORMS": "1",
                "variants-0-id": product.variants.get().pk,
                "variants-0-stock_seen": "12",
                "pictures-TOTAL_FORMS": "2",
                "pictures-INITIAL_FORMS": "1",
                "pictures-0-id": first.pk,
                "pictures-0-alt": first.alt,
                "pictures-1-image": image_upload("second.png"),
                "pictures-1-position": "1",
            },
        ),
    )
    too_large = manager.post(
        reverse("admin:catalog_product_add"),
        product_form(
            slug="huge", **{"variants-0-sku": "HUGE-1", "pictures-0-image": noise_png(8 * MB)}
        ),
    )

    assert added.status_code == 302
    assert changed.status_code == 302
    names = [picture.image.name for picture in product.pictures.all()]
    assert names[0] == first.image.name
    assert names[1].endswith("/second.png")
    assert too_large.status_code == 413
    assert "a picture of up to 5.0\xa0MB" in too_large.content.decode()
    assert not Product.objects.filter(slug="huge").exists()
