"""After the sale, through the browser: staff ship with tracking, the shopper asks to return an
item, staff approve it, receive it and refund it (part of the order); every email in order. The new
pages pass axe and the Nu HTML checker."""

import json
import re
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory, order_manager
from catalog.tests.factories import ProductFactory, only_variant
from e2e.conftest import VNU_JAR, axe_violations, log_in
from orders.models import Order, OrderStatus, Return
from orders.services import order_transition
from orders.tests.factories import place_order
from payments.models import Payment, PaymentStatus, Refund
from shop.models import Email

pytestmark = pytest.mark.django_db(transaction=True)

S = OrderStatus


def log_out(page):
    page.get_by_role("button", name="Log out").click()


@pytest.fixture
def paid_order():
    order_manager(email="orders@example.com")
    customer = UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    lantern = ProductFactory(name="Brass Lantern", price=Decimal("30.00"), stock=5)
    mug = ProductFactory(name="Tin Mug", price=Decimal("8.00"), stock=5)
    order = place_order([(lantern, 1), (mug, 2)], user=customer)
    Payment.objects.create(
        order=order, attempt=1, provider="local", session_id=f"cs_{order.number}",
        status=PaymentStatus.PAID, amount=order.total, currency=order.currency,
        amount_minor=int(order.total * 100), payment_intent=f"pi_{order.number}",
    )  # fmt: skip
    order_transition(order=order, to=S.PAID, source="test")
    return Order.objects.get(pk=order.pk), lantern


def test_staff_ship_the_shopper_returns_and_staff_receive_and_refund(
    page: Page, browser, live_server, paid_order
):
    order, lantern = paid_order
    admin_order = f"{live_server.url}{reverse('admin:orders_order_change', args=[order.pk])}"

    # Staff ship it with tracking, then mark it delivered, each from the order's page.
    log_in(page, live_server, "orders@example.com")
    page.goto(admin_order)
    page.get_by_role("link", name="Mark shipped").click()
    page.get_by_label("Carrier:").fill("Royal Mail")
    page.get_by_label("Tracking number:").fill("RM123456789GB")
    page.get_by_label("Tracking link:").fill("https://track.example/RM123456789GB")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_text(f"Order {order.number} is shipped.")).to_be_visible()
    page.get_by_role("link", name="Mark delivered").click()
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.get_by_text(f"Order {order.number} is delivered.")).to_be_visible()
    log_out(page)

    # The shopper sees the tracking and asks to return the lantern.
    shopper = browser.new_context().new_page()
    log_in(shopper, live_server, "ada@example.com")
    shopper.goto(live_server.url + order.get_absolute_url())
    expect(shopper.get_by_text("Royal Mail: RM123456789GB")).to_be_visible()
    shopper.get_by_role("link", name="Return items").click()
    shopper.get_by_label("Brass Lantern").fill("1")
    shopper.get_by_label("Why are you returning them?").fill("The glass arrived cracked")
    shopper.get_by_role("button", name="Ask to return these items").click()
    expect(shopper.get_by_text("Your return request is sent.")).to_be_visible()
    expect(shopper.get_by_role("heading", name="Returns")).to_be_visible()

    # Staff approve it and receive the lantern, not fit to sell again.
    log_in(page, live_server, "orders@example.com")
    page.goto(admin_order)
    expect(page.get_by_text("The glass arrived cracked")).to_be_visible()
    page.get_by_role("link", name="Approve").click()
    page.get_by_label("Answer:").fill("Please post it to 1 Depot Road, Bristol")
    page.get_by_role("button", name="Approve the return").click()
    page.get_by_role("link", name="Items received").click()
    page.get_by_label("Put the items back on sale").uncheck()
    page.get_by_role("button", name="Mark the items received").click()
    expect(page.get_by_text("Items received").first).to_be_visible()
    assert Return.objects.get().status == "received"
    assert only_variant(lantern).stock == 4

    # And refund it, from the return: the amount is stated before it is sent.
    page.get_by_role("link", name="Refund it").click()
    page.get_by_role("button", name="Review the refund").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Refund \$30\.00 to the customer"))
    ).to_be_visible()
    assert not Refund.objects.exists()
    page.get_by_role("button", name=re.compile(r"^Send the refund")).click()
    expect(page.get_by_text("Refunded 30.00")).to_be_visible()
    refund = Refund.objects.get()
    assert (refund.amount, refund.state, refund.source) == (Decimal("30.00"), "succeeded", "return")
    assert Order.objects.get(pk=order.pk).status == S.DELIVERED  # part of the order refunded

    kinds = list(
        Email.objects.filter(reference=order.number)
        .order_by("created", "pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "order_placed",
        "order_paid",
        "order_shipped",
        "order_delivered",
        "order_return_requested",
        "order_return_approved",
        "order_return_received",
        "order_refund_issued",
    ]
    shipped = Email.objects.get(kind="order_shipped")
    assert "RM123456789GB" in shipped.body
    assert "https://track.example/RM123456789GB" in shipped.html_body


def test_the_new_pages_pass_axe_and_the_nu_checker(browser, live_server, client, tmp_path):
    order_manager(email="orders@example.com")
    customer = UserFactory(email="ada@example.com")
    order = place_order([(ProductFactory(name="Brass Lantern", stock=5), 2)], user=customer)
    for status in (S.PAID, S.SHIPPED, S.DELIVERED):
        order_transition(order=order, to=status, source="test")
    context = browser.new_context(bypass_csp=True)  # axe is injected as a script
    page = context.new_page()
    found = {}

    def audit(name):
        violations = axe_violations(page)
        if violations:
            found[name] = violations

    log_in(page, live_server, "ada@example.com")
    page.goto(live_server.url + reverse("orders:return", args=[order.number]))
    audit("return-form")
    page.get_by_role("button", name="Ask to return these items").click()
    audit("return-form-with-errors")
    page.goto(live_server.url + order.get_absolute_url())
    audit("order-delivered")
    log_out(page)
    log_in(page, live_server, "orders@example.com")
    for name in ("invoice", "packing_slip"):
        page.goto(live_server.url + reverse(f"orders:{name}", args=[order.number]))
        audit(name)
    context.close()
    assert found == {}

    files = {}

    def save(name, response, expected=200):
        assert response.status_code == expected, name
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files[str(path)] = name

    client.force_login(customer)
    url = reverse("orders:return", args=[order.number])
    save("return-form", client.get(url))
    save("return-form-with-errors", client.post(url, {"reason": ""}), expected=400)
    save("order-delivered", client.get(order.get_absolute_url()))
    client.force_login(order_manager())
    save("invoice", client.get(reverse("orders:invoice", args=[order.number])))
    save("packing-slip", client.get(reverse("orders:packing_slip", args=[order.number])))
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stdout)["messages"]
    assert messages == [], "\n".join(
        f"{files.get(m['url'].removeprefix('file:'), m['url'])}: {m['message']}" for m in messages
    )
    assert re.search(r"Invoice \d{4}-\d{6}", (tmp_path / "invoice.html").read_text())
