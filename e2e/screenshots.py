"""Desktop and phone screenshots of the main pages: `make screenshots` writes docs/screenshots/.

Not part of the suite (the file name does not start with test_); run it by name.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from catalog.demo import demo_catalog_seed
from catalog.models import Product
from e2e.conftest import log_in
from e2e.pages import SHOPPER_EMAIL, build_store

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.django_db(transaction=True)
def test_screenshots(page: Page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True  # so the live server serves the demo pictures
    build_store()
    Product.objects.filter(name__startswith="Product ").update(is_active=False)  # test filler
    demo_catalog_seed(products=24, seed=3)
    OUT.mkdir(parents=True, exist_ok=True)
    shots = [("home", "/"), ("products", "/products/?category=kitchen"), ("product", None)]
    product_url = None
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for name, path in shots:
            if path is None:
                page.goto(f"{live_server.url}/products/?category=kitchen")
                page.get_by_role("link", name=re.compile(".+")).filter(
                    has=page.locator(".product-card__name")
                ).first.click()
                product_url = product_url or page.url
            else:
                page.goto(live_server.url + path)
            page.screenshot(path=OUT / f"{name}-{size}.png", full_page=size == "phone")
    log_in(page, live_server, SHOPPER_EMAIL)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for name, path in (("cart", "/cart/"), ("orders", "/orders/")):
            page.goto(live_server.url + path)
            page.screenshot(path=OUT / f"{name}-{size}.png", full_page=size == "phone")
    assert len(list(OUT.glob("*.png"))) >= 10
