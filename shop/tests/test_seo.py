"""Sitemap, robots.txt, favicon and the link-preview tags of product and category pages."""

from xml.etree import ElementTree

import pytest
from django.core.files.storage import default_storage
from django.templatetags.static import static

from catalog.models import ProductImage
from catalog.tests.factories import (
    ESCAPED_MARKUP_NAME,
    MARKUP_NAME,
    CategoryFactory,
    ProductFactory,
    image_upload,
)
from shop.pages.defaults import seed_pages
from shop.pages.models import Page
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_entries(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(response.content)  # noqa: S314 -- the store's own output
    return {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("s:url", SITEMAP_NS)
    }


def test_the_sitemap_lists_what_shoppers_can_find(client):
    kitchen = CategoryFactory(slug="kitchen")
    kettle = ProductFactory(slug="kettle", category=kitchen)
    ProductFactory(slug="retired", category=kitchen, is_active=False)
    Page.objects.create(slug="draft", title="Draft", body="Soon.", is_published=False)
    # The migration's pages, unless a transactional test's flush took them away before.
    seed_pages()

    entries = sitemap_entries(client)

    assert entries["http://testserver/"] is None
    assert "http://testserver/products/" in entries
    assert "http://testserver/products/?category=kitchen" in entries
    assert entries["http://testserver/products/kettle/"] == kettle.updated.date().isoformat()
    assert "http://testserver/products/retired/" not in entries
    about = Page.objects.get(slug="about")
    assert entries["http://testserver/pages/about/"] == about.updated.date().isoformat()
    assert "http://testserver/pages/draft/" not in entries


def test_robots_txt_keeps_crawlers_out_of_private_pages_and_points_to_the_sitemap(client, settings):
    settings.ADMIN_URL = "backoffice/"

    response = client.get("/robots.txt", secure=True)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.removeprefix("Disallow: ") for line in lines if line.startswith("Disallow")}
    assert disallowed == {
        "/backoffice/", "/cart/", "/checkout/", "/orders/", "/accounts/", "/payments/", "/staff/"
    }  # fmt: skip
    assert "Sitemap: https://testserver/sitemap.xml" in lines


def test_favicon_ico_leads_to_the_svg_favicon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static("img/favicon.svg")
    assert (
        f'<link rel="icon" href="{static("img/favicon.svg")}"'
        in client.get("/accounts/login/").content.decode()
    )


def test_a_product_page_has_link_preview_tags_with_its_picture(
    client, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="lamp", name=MARKUP_NAME, description='A "lamp" & more')
    cover = ProductImage.objects.create(
        product=product, image=image_upload("lamp.png", size=(1000, 750)), alt="The lamp, lit"
    )
    ProductImage.objects.create(product=product, image=image_upload("side.png"), position=1)

    html = client.get("/products/lamp/").content.decode()

    assert '<meta property="og:type" content="product">' in html
    assert f'<meta property="og:title" content="{ESCAPED_MARKUP_NAME}">' in html
    assert '<meta property="og:description" content="A &quot;lamp&quot; &amp; more">' in html
    assert '<meta property="og:url" content="http://testserver/products/lamp/">' in html
    # Until its renditions are made, the original, as the page itself shows it.
    assert f'<meta property="og:image" content="http://testserver{cover.image.url}">' in html
    assert "og:image:width" not in html
    assert '<meta property="og:image:alt" content="The lamp, lit">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert MARKUP_NAME not in html

    with django_capture_on_commit_callbacks(execute=True):  # the cached page's version moves on
        deliver_queued()
    cover.refresh_from_db()
    html = client.get("/products/lamp/").content.decode()

    [largest] = [f for f in cover.renditions["files"] if (f["format"], f["width"]) == ("PNG", 1000)]
    url = f"http://testserver{default_storage.url(largest['name'])}"
    assert f'<meta property="og:image" content="{url}">' in html
    assert '<meta property="og:image:width" content="1000">' in html
    assert '<meta property="og:image:height" content="750">' in html
    assert f'content="http://testserver{cover.image.url}"' not in html


def test_a_product_without_a_picture_has_no_preview_image(client):
    ProductFactory(slug="lamp", name="Desk lamp", description="")

    html = client.get("/products/lamp/").content.decode()

    assert '<meta property="og:description" content="Desk lamp at ' in html
    assert "og:image" not in html
    assert '<meta name="twitter:card" content="summary">' in html


def test_a_category_page_has_link_preview_tags(client):
    CategoryFactory(slug="garden", name="Garden <tools>", description='Spades & "forks"')

    html = client.get("/products/", {"category": "garden"}).content.decode()
    search = client.get("/products/", {"category": "garden", "q": "spade"}).content.decode()

    assert '<meta property="og:type" content="website">' in html
    assert '<meta property="og:title" content="Garden &lt;tools&gt;">' in html
    assert '<meta property="og:description" content="Spades &amp; &quot;forks&quot;">' in html
    assert '<meta property="og:url" content="http://testserver/products/?category=garden">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "og:title" not in search  # search results are not for sharing or indexing
