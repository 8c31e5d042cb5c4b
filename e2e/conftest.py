"""Browser journeys: Playwright driving Debian's Chromium against the live server on PostgreSQL."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from accounts.tests.factories import PASSWORD

# Playwright's sync API keeps an event loop running in the test thread; Django must still allow
# ORM calls from the test body (the live server runs in its own thread, unaffected).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# Chromium's background services would try the network, which these machines do not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOOLS = Path(__file__).resolve().parent / "node_modules"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _unhashed_static_files(settings):
    # The live server serves static files from the source folders, by their plain names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _local_payments(settings):
    settings.PAYMENT_BACKEND = "local"


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    """Journeys run under the store's real CSP: any violation the browser reports fails them."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert violations == []


def log_in(page: Page, live_server, email, password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def axe_violations(page: Page, impacts=("serious", "critical")):
    """axe-core's WCAG 2.1 A/AA findings on the page as it is now, of the given impacts."""
    page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate(
        """async () => {
             const r = await axe.run(document, {runOnly: {type: 'tag',
               values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.map(n => n.target.join(' '))}));
           }"""
    )
    return [v for v in found if v["impact"] in impacts]
