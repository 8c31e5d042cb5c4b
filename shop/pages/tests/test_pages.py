"""Content pages: shown when published, escaped, linked from the footer, edited by staff."""

import importlib
import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import catalog_manager, order_manager
from catalog.tests.factories import ESCAPED_MARKUP_NAME, MARKUP_NAME
from shop.pages.defaults import DEFAULT_PAGES
from shop.pages.models import Page

pytestmark = pytest.mark.django_db

DEFAULT_SLUGS = {slug for slug, _, _ in DEFAULT_PAGES}
FOOTER = re.compile(r'<footer class="site-footer">.*</footer>', re.S)


def footer_links(html):
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', FOOTER.search(html).group())


def test_a_published_page_shows_its_text_in_paragraphs(client):
    Page.objects.create(slug="faq", title="Questions", body="First line\nsecond line.\n\nNext.")

    response = client.get("/pages/faq/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Questions · " in html
    assert "<h1>Questions</h1>" in html
    assert "<p>First line<br>second line.</p>" in html
    assert "<p>Next.</p>" in html
    assert '<link rel="canonical" href="http://testserver/pages/faq/">' in html


def test_markup_typed_in_a_page_shows_as_text(client):
    Page.objects.create(slug="faq", title=MARKUP_NAME, body=f"Before\n\n{MARKUP_NAME}")

    html = client.get("/pages/faq/").content.decode()

    assert MARKUP_NAME not in html
    assert f"<h1>{ESCAPED_MARKUP_NAME}</h1>" in html
    assert f"<p>{ESCAPED_MARKUP_NAME}</p>" in html
    assert f'<a href="/pages/faq/">{ESCAPED_MARKUP_NAME}</a>' in html  # the footer's link


@pytest.mark.parametrize("slug", ["no-such-page", "draft"])
def test_unknown_and_unpublished_pages_are_not_found(client, slug):
    Page.objects.create(slug="draft", title="Draft", body="Not yet.", is_published=False)
    assert client.get(f"/pages/{slug}/").status_code == 404


def test_the_footer_links_every_published_page_in_footer_order(client):
    Page.objects.all().delete()
    Page.objects.create(slug="contact", title="Contact us", body="Write.", footer_order=2)
    Page.objects.create(slug="about", title="About us", body="We.", footer_order=1)
    Page.objects.create(slug="draft", title="Draft", body="Soon.", is_published=False)

    html = client.get(reverse("accounts:login")).content.decode()

    assert footer_links(html) == [
        ("/pages/about/", "About us"),
        ("/pages/contact/", "Contact us"),
        ("/orders/find/", "Find an order"),
    ]


def test_a_page_edit_shows_at_once_on_cached_pages(client, django_capture_on_commit_callbacks):
    page = Page.objects.get(slug="about")
    assert "<h1>About us</h1>" in client.get("/pages/about/").content.decode()
    assert "<h1>About us</h1>" in Client().get("/pages/about/").content.decode()  # cached

    page.title = "Who we are"
    with django_capture_on_commit_callbacks(execute=True):
        page.save()

    html = Client().get("/pages/about/").content.decode()
    assert "<h1>Who we are</h1>" in html
    assert ("/pages/about/", "Who we are") in footer_links(html)


def test_the_migrations_create_the_five_default_pages():
    assert set(Page.objects.published().values_list("slug", flat=True)) == DEFAULT_SLUGS

    Page.objects.all().delete()
    migration = importlib.import_module("shop.pages.migrations.0002_default_pages")
    migration.create_pages(apps, None)

    pages = {page.slug: page for page in Page.objects.all()}
    assert set(pages) == DEFAULT_SLUGS
    assert all(page.is_published and "placeholder" in page.body for page in pages.values())


def test_seed_demo_creates_the_pages_that_are_missing(client):
    Page.objects.filter(slug="privacy").delete()
    Page.objects.filter(slug="about").update(title="Our story", is_published=False)

    out = io.StringIO()
    call_command("seed_demo", "--products", "0", stdout=out)

    assert "Content pages: 1 created" in out.getvalue()
    assert client.get("/pages/privacy/").status_code == 200
    about = Page.objects.get(slug="about")
    assert (about.title, about.is_published) == ("Our story", False)  # staff's choices kept


def test_catalog_managers_edit_pages_in_the_back_office(client):
    page = Page.objects.get(slug="terms")
    client.force_login(catalog_manager())

    response = client.post(
        reverse("admin:pages_page_change", args=[page.pk]),
        {
            "title": "Terms of sale",
            "slug": "terms",
            "body": "New terms.",
            "is_published": "on",
            "footer_order": "30",
        },
    )

    assert response.status_code == 302
    page.refresh_from_db()
    assert (page.title, page.body) == ("Terms of sale", "New terms.")
    assert client.get(reverse("admin:pages_page_add")).status_code == 200


def test_order_managers_cannot_edit_pages(client):
    page = Page.objects.get(slug="terms")
    client.force_login(order_manager())

    listing = client.get(reverse("admin:pages_page_changelist"))
    change = client.post(
        reverse("admin:pages_page_change", args=[page.pk]),
        {"title": "Changed", "slug": "terms", "body": "x", "footer_order": "0"},
    )

    assert listing.status_code == 403
    assert change.status_code == 403
    page.refresh_from_db()
    assert page.title == "Terms and conditions"
