"""Customer emails about orders: plain text with an HTML alternative on the store's one email
layout, each naming the order, the store and the link back to the order, and sent with both."""

import re
import uuid
from html.parser import HTMLParser

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_add_item
from catalog.tests.factories import ProductFactory
from orders import access
from orders.emails import queue_guest_orders_claim_email, queue_order_email
from orders.services import order_place
from orders.tests.factories import as_variant, checkout_request, place_order
from shop.models import Email
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

SITE = "https://shop.example.com"
KINDS = ["placed", "paid", "payment_failed", "shipped", "delivered", "cancelled", "link"]
SUBJECTS = {
    "placed": "Corner Shop: Your order {number} is placed",
    "paid": "Corner Shop: Payment received for order {number}",
    "payment_failed": "Corner Shop: We could not take payment for order {number}",
    "shipped": "Corner Shop: Your order {number} is on its way",
    "delivered": "Corner Shop: Your order {number} has been delivered",
    "cancelled": "Corner Shop: Your order {number} is cancelled",
    "link": "Corner Shop: Your link to order {number}",
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# What would load something from elsewhere, or style the email from outside its elements.
LOADING = {"script", "img", "link", "style", "iframe", "object", "embed", "video", "audio"}


@pytest.fixture(autouse=True)
def _store(settings):
    settings.SITE_URL = SITE
    settings.STORE_NAME = "Corner Shop"


class Structure(HTMLParser):
    """The tags of an HTML document, and every tag left open or closed out of turn."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.doctype, self.tags, self.open, self.errors = None, [], [], []
        self.feed(html)
        self.close()

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.errors.append(f"</{tag}> while {self.open[-1:] or 'nothing'} is open")


def guest_order(*, full_name="Ada Lovelace"):
    cart = Cart.objects.create(session_key=f"guest-{uuid.uuid4().hex}")
    cart_add_item(cart=cart, variant=as_variant(ProductFactory(name="Lamp", stock=5)), quantity=2)
    order, _ = order_place(checkout_request(cart, email="guest@example.com", full_name=full_name))
    assert order.is_guest
    return order


def account_order():
    return place_order([(ProductFactory(name="Lamp", stock=5), 2)])


def queued(order, kind, **kwargs):
    Email.objects.all().delete()  # checkout queued its own
    queue_order_email(order, kind, **kwargs)
    return Email.objects.get()


def order_link(order, email):
    """The link to the order in the email's text: for a guest, a signed link that opens it."""
    if not order.is_guest:
        return SITE + order.get_absolute_url()
    # Signed with a timestamp: read from the email, then checked.
    [link] = set(re.findall(rf"{re.escape(SITE)}/orders/guest/\S+", email.body))
    token = link.removeprefix(f"{SITE}/orders/guest/").rstrip("/")
    assert access.guest_order_from_token(token) == order
    return link


# --- Every kind ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("make_order", [guest_order, account_order], ids=["guest", "account"])
def test_every_order_email_has_text_and_html_naming_the_order_the_store_and_its_link(
    kind, make_order
):
    order = make_order()

    email = queued(order, kind)

    link = order_link(order, email)
    assert (email.kind, email.reference) == (f"order_{kind}", order.number)
    assert email.subject == SUBJECTS[kind].format(number=order.number)
    for body in (email.body, email.html_body):
        assert order.number in body
        assert "Corner Shop" in body
        assert link in body
    assert f'href="{link}"' in email.html_body
    assert "<" not in email.body  # the text stays plain text


@pytest.mark.parametrize("kind", KINDS)
def test_every_order_email_html_is_well_formed_styled_inline_and_loads_nothing(kind):
    email = queued(guest_order(), kind)

    html = Structure(email.html_body)

    assert html.doctype == "DOCTYPE html"
    assert (html.errors, html.open) == ([], [])
    names = [tag for tag, _ in html.tags]
    assert names[:3] == ["html", "head", "meta"]
    assert not LOADING & set(names)
    assert not [attrs for _, attrs in html.tags if "src" in attrs or "class" in attrs]
    assert "url(" not in email.html_body
    assert all(attrs["href"].startswith(SITE) for tag, attrs in html.tags if tag == "a")
    # The store's one layout: its name as the header, a footer.
    [title] = re.findall(r"<title>(.*?)</title>", email.html_body)
    assert title == email.subject
    assert ">Corner Shop</a></td>" in email.html_body
    assert "This email is about order" in email.html_body


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_customer_typed_is_escaped_in_the_html(kind, settings):
    settings.STORE_NAME = "Pip & Co"
    order = guest_order(full_name="<b>x</b>")

    email = queued(order, kind)

    assert "&lt;b&gt;x&lt;/b&gt;" in email.html_body
    assert "<b>" not in email.html_body
    assert "Pip &amp; Co" in email.html_body
    assert "Pip & Co" not in email.html_body
    assert "<b>x</b>" in email.body  # plain text is not HTML: shown as typed
    assert email.subject.startswith("Pip & Co: ")


@pytest.mark.parametrize("kind", KINDS)
def test_every_order_email_is_sent_with_its_html_alternative(kind, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = queued(guest_order(), kind)

    deliver_queued()

    [message] = mail.outbox
    assert message.to == ["guest@example.com"]
    assert message.subject == email.subject
    assert message.body == email.body
    assert [(alt.content, alt.mimetype) for alt in message.alternatives] == [
        (email.html_body, "text/html")
    ]
    mime = message.message()
    assert mime.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mime.get_payload()] == ["text/plain", "text/html"]


# --- What some kinds say ------------------------------------------------------------------------


def test_a_cancelled_email_says_why_when_given_a_reason():
    email = queued(guest_order(), "cancelled", reason="Payment was not received in time <sic>")

    assert "\n\nReason: Payment was not received in time <sic>\n\n" in email.body
    assert "Reason: Payment was not received in time &lt;sic&gt;</p>" in email.html_body


def test_a_cancelled_email_without_a_reason_gives_none():
    email = queued(guest_order(), "cancelled")

    assert "Reason" not in email.body
    assert "Reason" not in email.html_body
    assert "You have not been charged for it.\n\n  2 × Lamp" in email.body


def test_a_payment_failed_email_says_nothing_was_charged_and_the_items_are_back_on_sale():
    order = guest_order()

    email = queued(order, "payment_failed")

    for body in (email.body, email.html_body):
        assert "We could not take payment" in body
        assert "Nothing was charged." in body
        assert "gone back on sale" in body
        assert "Put these items back in my cart" in body
    assert f"Or shop again at {SITE}/\n" in email.body
    assert f'href="{SITE}/"' in email.html_body


def test_a_delivered_email_says_the_order_arrived():
    email = queued(guest_order(), "delivered")

    for body in (email.body, email.html_body):
        assert "has been delivered" in body
        assert "2 × Lamp" in body


def test_a_shipped_email_shows_tracking_only_when_the_order_has_it():
    order = guest_order()
    without = queued(order, "shipped")
    # What a shipped order carries once it has tracking.
    order.carrier = "Royal Mail"
    order.tracking_number = "RM123456789GB"
    order.tracking_url = "https://track.example.com/RM123456789GB?x=1&y=2"

    tracked = queued(order, "shipped")

    for body in (without.body, without.html_body):
        assert "Carrier" not in body
        assert "Tracking" not in body
        assert "track.example.com" not in body
    assert "\n\nCarrier: Royal Mail\nTracking number: RM123456789GB\n" in tracked.body
    assert "Track your parcel: https://track.example.com/RM123456789GB?x=1&y=2\n\n" in tracked.body
    assert "Carrier: Royal Mail<br>Tracking number: RM123456789GB" in tracked.html_body
    assert 'href="https://track.example.com/RM123456789GB?x=1&amp;y=2"' in tracked.html_body
    assert (Structure(tracked.html_body).errors, Structure(tracked.html_body).open) == ([], [])


def test_a_tracking_link_that_is_not_a_web_address_is_left_out():
    order = guest_order()
    order.tracking_number = "RM123456789GB"
    order.tracking_url = "javascript:alert(1)"

    email = queued(order, "shipped")

    assert "Tracking number: RM123456789GB" in email.body
    assert "javascript" not in email.body
    assert "javascript" not in email.html_body


def test_the_claim_email_has_text_and_html_with_the_claim_link(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = UserFactory(email="ada@example.com", full_name="<i>Ada</i>")
    guest_order()  # placed with another address: not counted
    cart = Cart.objects.create(session_key="guest-claim")
    cart_add_item(cart=cart, variant=as_variant(ProductFactory(stock=5)), quantity=1)
    order_place(checkout_request(cart, email="ada@example.com"))
    Email.objects.all().delete()

    assert queue_guest_orders_claim_email(user)

    email = Email.objects.get(kind="orders_claim")
    [link] = re.findall(rf"{re.escape(SITE)}/orders/claim/\S+", email.body)
    for body in (email.body, email.html_body):
        assert "Corner Shop" in body
        assert link in body
        assert "We found 1 such order." in body
    assert "&lt;i&gt;Ada&lt;/i&gt;" in email.html_body
    html = Structure(email.html_body)
    assert (html.doctype, html.errors, html.open) == ("DOCTYPE html", [], [])
    deliver_queued()
    assert mail.outbox[0].alternatives[0].mimetype == "text/html"
