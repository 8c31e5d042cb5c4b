"""Every shopper page audited: axe-core in Chromium, and the Nu HTML checker."""

import json
import re
import subprocess

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from accounts.models import User
from catalog.models import Product
from catalog.tests.factories import only_variant
from e2e.conftest import VNU_JAR, axe_violations, log_in
from e2e.pages import SHOPPER_EMAIL, build_store
from orders.tests.factories import ADDRESS

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
def test_every_shopper_page_has_no_serious_accessibility_violations(audit_page, live_server):
    page = audit_page
    anonymous, shopper_pages = build_store()
    found = {}

    def audit(name):
        violations = axe_violations(page)
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

    log_in(page, live_server, SHOPPER_EMAIL)
    for name, path in shopper_pages:
        page.goto(live_server.url + path)
        audit(name)
    # Checkout opens once the marked line is lowered.
    page.goto(f"{live_server.url}/cart/")
    page.get_by_label("Quantity of Last Teapot").fill("1")
    page.get_by_role("button", name=re.compile(r"Update\W+Last Teapot")).click()
    page.goto(f"{live_server.url}/checkout/")
    audit("checkout")
    page.eval_on_selector("form[novalidate]", "f => f.noValidate = true")
    page.get_by_label("City").fill("")
    page.get_by_role("button", name="Place order").click()
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

    client.force_login(User.objects.get(email=SHOPPER_EMAIL))
    for name, path in shopper_pages:
        save(name, client.get(path))
    short = Product.objects.get(slug="last-teapot")
    client.post(reverse("cart:update", args=[only_variant(short).pk]), {"quantity": 1})
    save("checkout", client.get("/checkout/"))
    checkout = client.post("/checkout/", {**ADDRESS, "city": ""})
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
    assert len(files) >= 30


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
