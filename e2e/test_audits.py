"""Every shopper page audited: axe-core in Chromium, and the Nu HTML checker."""

import json
import re
import subprocess

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults
from playwright.sync_api import expect

from accounts.models import User
from catalog.models import Product
from catalog.tests.factories import only_variant
from e2e.conftest import VNU_JAR, axe_violations, log_in
from e2e.pages import GUEST_EMAIL, SHOPPER_EMAIL, VOUCHER_CODE, build_store
from orders.tests.factories import ADDRESS
from pricing.models import ShippingMethod

ERROR_PAGES = ("400", "403", "403_csrf", "413", "429", "500")


def render_error_pages():
    """The error pages exactly as the handlers render them."""
    request = RequestFactory().get("/somewhere/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    return {
        "400": defaults.bad_request(request, Exception()).content.decode(),
        "403": defaults.permission_denied(request, PermissionDenied()).content.decode(),
        "403_csrf": render_to_string("403_csrf.html", request=request),
        "413": render_to_string("413.html", {"limit": 2_621_440}, request=request),
        "429": render_to_string("429.html", request=request),
        "500": defaults.server_error(request).content.decode(),
    }


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in violations
    )


@pytest.fixture
def audit_page(browser):
    # axe is injected as a script, which the store's CSP rightly refuses: this page ignores it.
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_every_shopper_page_has_no_serious_accessibility_violations(
    audit_page, browser, live_server
):
    page = audit_page
    anonymous, shopper_pages = build_store()
    found = {}

    def audit(name, on=None):
        violations = axe_violations(on or page)
        if violations:
            found[name] = describe(violations)

    for name, path in anonymous:
        page.goto(live_server.url + path)
        audit(name)
    for name, html in render_error_pages().items():
        page.goto(live_server.url + "/")
        page.set_content(html)
        audit(f"error-{name}")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Log in").click()
    audit("login-with-errors")
    page.goto(f"{live_server.url}/accounts/register/")
    page.eval_on_selector("form.form-narrow", "f => f.noValidate = true")
    page.get_by_role("button", name="Create account").click()
    audit("register-with-errors")
    page.goto(live_server.url + reverse("orders:lookup"))
    page.eval_on_selector("form.form-narrow", "f => f.noValidate = true")
    page.get_by_role("button", name="Email me a link").click()
    audit("order-lookup-with-errors")

    # A guest, in a browser of their own: a cart with the discount code, then checkout.
    guest_context = browser.new_context(bypass_csp=True)
    guest = guest_context.new_page()
    lantern = Product.objects.get(slug="brass-lantern")
    guest.goto(live_server.url + lantern.get_absolute_url())
    guest.get_by_role("button", name="Add to cart").click()
    guest.goto(f"{live_server.url}/cart/")
    guest.get_by_label("Discount code").fill(VOUCHER_CODE)
    guest.get_by_role("button", name="Apply").click()
    expect(
        guest.get_by_role("row", name=re.compile(rf"^Discount \({VOUCHER_CODE}\)"))
    ).to_be_visible()
    audit("cart-with-discount", guest)
    guest.get_by_role("link", name="Check out").click()
    expect(guest.get_by_label("Email")).to_be_visible()
    audit("checkout-guest", guest)
    guest.get_by_label("Email").fill(GUEST_EMAIL)
    guest.get_by_label("Address line 1").fill(ADDRESS["address_line1"])
    guest.get_by_label("City").fill(ADDRESS["city"])
    guest.get_by_label("Postal code").fill(ADDRESS["postal_code"])
    guest.get_by_label("Country").select_option(label="United Kingdom")
    guest.get_by_role("button", name="Update totals").click()
    expect(guest.get_by_role("radio", name=re.compile(r"^Express"))).to_be_visible()
    audit("checkout-guest-updated", guest)
    guest.get_by_label("City").fill("")
    guest.get_by_role("button", name="Place order").click()
    expect(guest.locator(".field--error")).not_to_have_count(0)
    audit("checkout-guest-with-errors", guest)
    guest_context.close()

    log_in(page, live_server, SHOPPER_EMAIL)
    for name, path in shopper_pages:
        page.goto(live_server.url + path)
        audit(name)
    page.goto(f"{live_server.url}/accounts/addresses/add/")
    page.eval_on_selector("form.form-narrow", "f => f.noValidate = true")
    page.get_by_role("button", name="Save address").click()
    audit("address-add-with-errors")
    # Checkout opens once the marked line is lowered.
    page.goto(f"{live_server.url}/cart/")
    page.get_by_label("Quantity of Last Teapot").fill("1")
    page.get_by_role("button", name=re.compile(r"Update\W+Last Teapot")).click()
    page.goto(f"{live_server.url}/checkout/")
    # The shopper's default saved address is chosen: "Deliver to" offers the book.
    expect(page.get_by_role("group", name=re.compile(r"^Deliver to"))).to_be_visible()
    audit("checkout-saved-addresses")
    page.eval_on_selector("form[novalidate]", "f => f.noValidate = true")
    page.get_by_role("radio", name="A new address (below)").check()
    page.get_by_label("City").fill("")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator(".field--error")).not_to_have_count(0)
    audit("checkout-with-errors")

    assert found == {}, "\n\n".join(f"{name}:\n{text}" for name, text in found.items())


@pytest.mark.django_db
def test_every_shopper_page_is_valid_html(client, tmp_path, settings):
    settings.PAYMENT_BACKEND = "local"
    anonymous, shopper_pages = build_store()
    files = {}

    def save(name, response, expected=(200,)):
        assert response.status_code in expected, f"{name}: {response.status_code}"
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files[str(path)] = name

    for name, path in anonymous:
        save(name, client.get(path), expected=(200, 404))
    save("login-with-errors", client.post("/accounts/login/", {"username": "x", "password": "y"}))
    save("register-with-errors", client.post("/accounts/register/", {"email": "nope"}))
    save("cart-bad-input", client.post("/cart/add/", {"product": "x"}), expected=(400,))
    for name, html in render_error_pages().items():
        path = tmp_path / f"error-{name}.html"
        path.write_text(html)
        files[str(path)] = f"error-{name}"

    lookup = reverse("orders:lookup")
    save("order-lookup-with-errors", client.post(lookup, {"number": "?", "email": "x"}), (400,))

    # A guest, with a client of their own: a cart with the discount code, then checkout.
    guest = Client()
    lantern = Product.objects.get(slug="brass-lantern")
    assert guest.post("/cart/add/", {"product": lantern.pk, "quantity": 1}).status_code == 302
    assert guest.post(reverse("cart:voucher_apply"), {"code": VOUCHER_CODE}).status_code == 302
    cart = guest.get("/cart/")
    assert f"Discount ({VOUCHER_CODE})" in cart.content.decode()
    save("cart-with-discount", cart)
    save("checkout-guest", guest.get("/checkout/"))
    express = ShippingMethod.objects.get(name="Express")
    guest_data = {**ADDRESS, "email": GUEST_EMAIL, "voucher_code": VOUCHER_CODE}
    updated = guest.post(
        "/checkout/", {**guest_data, "shipping_method": express.pk, "action": "update"}
    )
    assert "Shipping (Express)" in updated.content.decode()
    save("checkout-guest-updated", updated)
    checkout = guest.post("/checkout/", {**guest_data, "city": "", "action": "place"})
    save("checkout-guest-with-errors", checkout, expected=(400,))

    shopper = User.objects.get(email=SHOPPER_EMAIL)
    client.force_login(shopper)
    for name, path in shopper_pages:
        save(name, client.get(path))
    add_address = client.post(reverse("accounts:address_add"), {"city": ""})
    save("address-add-with-errors", add_address, expected=(400,))
    short = Product.objects.get(slug="last-teapot")
    client.post(reverse("cart:update", args=[only_variant(short).pk]), {"quantity": 1})
    checkout = client.get("/checkout/")
    assert 'name="address"' in checkout.content.decode()  # the saved addresses are offered
    save("checkout-saved-addresses", checkout)
    checkout = client.post(
        "/checkout/", {**ADDRESS, "address": "new", "city": "", "action": "place"}
    )
    save("checkout-with-errors", checkout, expected=(400,))

    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stdout)["messages"]
    report = "\n".join(
        f"{files.get(m['url'].removeprefix('file:'), m['url'])}:{m.get('lastLine')}: {m['message']}"
        for m in messages
    )
    assert messages == [], report
    assert result.returncode == 0
    assert len(files) >= 50


def test_the_audit_tools_report_what_they_should(audit_page, tmp_path):
    page = audit_page
    # If the tools were silently not running, the audits above would pass on anything.
    page.set_content('<html><body><img src="x.png"><a href="/"></a></body></html>')
    assert {v["id"] for v in axe_violations(page, impacts=("serious", "critical"))} >= {
        "image-alt",
        "link-name",
    }
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html lang=en><title>x</title><img src=x.png></html>")
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "alt" in json.loads(result.stdout)["messages"][0]["message"]
