"""Guest orders: the signed link, who else can see them, the lookup by number and email, the
links and figures in order emails, and joining past guest orders to an account."""

import re
import time
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart.models import Cart
from cart.services import cart_add_item
from catalog.tests.factories import ProductFactory
from orders import access
from orders.emails import queue_order_email, site_url, tax_label
from orders.models import Order, OrderStatus
from orders.services import order_place
from orders.tests.factories import as_variant, checkout_request, place_order
from pricing.tests.factories import TaxRateFactory, VoucherFactory
from shop.models import Email

pytestmark = pytest.mark.django_db

GUEST_EMAIL = "guest@example.com"
LOOKUP_SENT = "If an order with that number and email exists, we have sent a link to it"
URL = re.compile(r"https?://\S+")


def guest_order(lines=None, *, email=GUEST_EMAIL, code=""):
    """An order placed by a guest, through checkout, from a session's cart."""
    cart = Cart.objects.create(session_key=f"guest-{uuid.uuid4().hex}")
    for item, quantity in lines or [(ProductFactory(stock=10), 1)]:
        cart_add_item(cart=cart, variant=as_variant(item), quantity=quantity)
    order, _ = order_place(checkout_request(cart, email=email, code=code))
    assert order.user_id is None
    return order


def follow_guest_link(client, order):
    return client.get(access.guest_url(order))


def links_in(email):
    return URL.findall(email.body)


def path_of(url):
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def hidden(client, order):
    """Whether the order page keeps the order from this client: 404, or (signed out, as for
    any number) the login page."""
    response = client.get(order.get_absolute_url())
    if response.status_code == 302:
        return response["Location"].startswith(reverse("accounts:login") + "?next=")
    return response.status_code == 404


# --- The guest link ---------------------------------------------------------------------------


def test_the_guest_link_opens_the_order_and_keeps_it_open_for_the_session(client):
    order = guest_order()

    response = follow_guest_link(client, order)
    page = client.get(order.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert page.status_code == 200
    assert order.number in page.content.decode()
    assert client.session[access.GUEST_ORDERS] == [order.number]


def test_the_placed_email_carries_the_absolute_guest_link_that_works(client):
    order = guest_order()
    email = Email.objects.get(kind="order_placed", reference=order.number)

    [link] = [url for url in links_in(email) if "/orders/guest/" in url]
    response = client.get(path_of(link), follow=True)

    assert link.startswith("https://testserver/orders/guest/")
    assert email.recipient == GUEST_EMAIL
    assert response.status_code == 200
    assert response.context["order"] == order


def tampered(token):
    payload, rest = token.split(":", 1)
    i = len(rest) // 2
    return f"{payload}:{rest[:i]}{'A' if rest[i] != 'A' else 'B'}{rest[i + 1 :]}"


def another_orders_number(token, other):
    """The token's signature on another order's data: what someone guessing would try."""
    _, rest = token.split(":", 1)
    payload = signing.dumps({"n": other.number, "e": other.email}, salt=access.SALT).split(":")[0]
    return f"{payload}:{rest}"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda order, other: tampered(access.guest_token(order)), id="one-char"),
        pytest.param(
            lambda order, other: another_orders_number(access.guest_token(order), other),
            id="other-number",
        ),
        pytest.param(lambda order, other: "garbage", id="garbage"),
        pytest.param(lambda order, other: "a" * 3000, id="long"),
        pytest.param(
            lambda order, other: signing.dumps(
                {"n": order.number, "e": order.email}, salt=access.CLAIM_SALT
            ),
            id="other-salt",
        ),
        pytest.param(
            lambda order, other: signing.dumps(
                {"n": "ZZZZZ-ZZZZZ", "e": order.email}, salt=access.SALT
            ),
            id="signed-no-such-order",
        ),
        pytest.param(
            lambda order, other: signing.dumps(
                {"n": order.number, "e": "someone@example.com"}, salt=access.SALT
            ),
            id="signed-wrong-email",
        ),
        pytest.param(lambda order, other: signing.dumps([1], salt=access.SALT), id="not-a-dict"),
    ],
)
def test_a_bad_guest_link_is_404_and_opens_nothing(client, make_token):
    order = guest_order()
    other = guest_order(email="other@example.com")

    response = client.get(reverse("orders:guest", args=[make_token(order, other)]))

    assert response.status_code == 404
    assert access.GUEST_ORDERS not in client.session
    assert hidden(client, order)
    assert hidden(client, other)


def test_a_guest_order_is_404_to_a_session_without_its_link(client):
    order = guest_order()

    assert hidden(client, order)
    assert client.post(reverse("orders:cancel", args=[order.number])).status_code == 404
    assert client.post(reverse("orders:put_back", args=[order.number])).status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


def test_another_session_or_shopper_cannot_use_a_guest_order_opened_elsewhere(client):
    order = guest_order()
    follow_guest_link(client, order)
    stranger = Client()
    shopper = Client()
    shopper.force_login(UserFactory())

    for other in (stranger, shopper):
        assert hidden(other, order)
        assert other.post(reverse("orders:cancel", args=[order.number])).status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert client.get(order.get_absolute_url()).status_code == 200


def test_one_guest_link_opens_only_its_own_order(client):
    mine = guest_order()
    theirs = guest_order(email="other@example.com")

    follow_guest_link(client, mine)

    assert client.get(mine.get_absolute_url()).status_code == 200
    assert hidden(client, theirs)


def test_the_guest_can_cancel_the_order_from_the_link(client):
    order = guest_order()
    follow_guest_link(client, order)

    client.post(reverse("orders:cancel", args=[order.number]))

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_the_link_of_an_order_that_joined_an_account_asks_to_sign_in(client):
    order = guest_order()
    owner = UserFactory(email=GUEST_EMAIL)
    token = access.guest_token(order)
    Order.objects.filter(pk=order.pk).update(user=owner)

    response = client.get(reverse("orders:guest", args=[token]))
    client.force_login(owner)
    signed_in = client.get(reverse("orders:guest", args=[token]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    assert order.get_absolute_url() in response["Location"]
    assert access.GUEST_ORDERS not in client.session
    assert signed_in["Location"] == order.get_absolute_url()


# --- Finding an order by number and email ------------------------------------------------------


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def lookup(client, number, email, **extra):
    return client.post(reverse("orders:lookup"), {"number": number, "email": email}, **extra)


def test_the_lookup_page_shows_its_form(client):
    page = client.get(reverse("orders:lookup"))
    assert page.status_code == 200
    assert 'name="number"' in page.content.decode()


def test_a_lookup_emails_the_guest_link_and_answers_the_same_as_for_no_order(client):
    order = guest_order()

    found = lookup(client, f"  {order.number.lower()} ", "GUEST@Example.com", follow=True)
    [email] = Email.objects.filter(kind="order_link")
    not_found = [
        lookup(client, "ZZZZZ-ZZZZZ", GUEST_EMAIL, follow=True),
        lookup(client, order.number, "someone@example.com", follow=True),
    ]

    assert Email.objects.filter(kind="order_link").count() == 1
    assert email.recipient == GUEST_EMAIL
    assert email.reference == order.number
    [link] = links_in(email)
    assert "/orders/guest/" in link
    for response in (found, *not_found):
        assert response.redirect_chain == [(reverse("orders:lookup"), 302)]
        assert LOOKUP_SENT in response.content.decode()
    assert messages_of(found) == messages_of(not_found[0]) == messages_of(not_found[1])
    opened = Client()
    assert opened.get(path_of(link), follow=True).context["order"] == order


def test_a_lookup_of_an_accounts_order_emails_the_order_page_not_a_guest_link(client):
    owner = UserFactory(email="ada@example.com")
    order = place_order([(ProductFactory(), 1)], user=owner)

    lookup(client, order.number, "ada@example.com")

    [link] = links_in(Email.objects.get(kind="order_link"))
    assert link == f"https://testserver{order.get_absolute_url()}"
    assert hidden(client, order)


@pytest.mark.parametrize(
    ("number", "email", "field"),
    [
        ("ABC$%-1234", GUEST_EMAIL, "number"),
        ("", GUEST_EMAIL, "number"),
        ("ABCDE-FGH23", "", "email"),
        ("ABCDE-FGH23", "not-an-email", "email"),
        ("A" * 10_000, GUEST_EMAIL, "number"),
        ("ABCDE-FGH23", "a" * 10_000 + "@example.com", "email"),
        ("ABC\x00DE", GUEST_EMAIL, "number"),
    ],
)
def test_bad_lookup_input_shows_the_form_again_with_400(client, number, email, field):
    guest_order()
    response = lookup(client, number, email)

    assert response.status_code == 400
    assert response.context["form"].has_error(field)
    assert not Email.objects.filter(kind="order_link").exists()


def test_lookups_are_rate_limited_per_ip(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "order_lookup": "3/h"}
    order = guest_order()

    statuses = [
        lookup(client, "ZZZZZ-ZZZZZ", f"probe{n}@example.com").status_code for n in range(3)
    ]
    blocked = lookup(client, order.number, GUEST_EMAIL)

    assert statuses == [302, 302, 302]
    assert blocked.status_code == 429
    assert not Email.objects.filter(kind="order_link").exists()


def test_lookups_of_one_email_are_rate_limited_whatever_the_ip(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "order_lookup": "3/h"}
    order = guest_order()

    statuses = [
        lookup(client, "ZZZZZ-ZZZZZ", GUEST_EMAIL, REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    blocked = lookup(client, order.number, "Guest@Example.com", REMOTE_ADDR="10.0.0.9")

    assert statuses == [302, 302, 302]
    assert blocked.status_code == 429
    assert not Email.objects.filter(kind="order_link").exists()


def test_the_claim_request_is_rate_limited_per_account(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "order_claim": "2/h"}
    client.force_login(UserFactory(email="ada@example.com"))
    guest_order(email="ada@example.com")

    statuses = [client.post(reverse("orders:claim")).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert Email.objects.filter(kind="orders_claim").count() == 2


# --- What order emails say ---------------------------------------------------------------------


def test_an_accounts_order_emails_link_to_the_order_page(settings):
    settings.SITE_URL = "https://shop.example.com/"
    order = place_order([(ProductFactory(), 1)])

    body = Email.objects.get(kind="order_placed", reference=order.number).body

    assert f"https://shop.example.com{order.get_absolute_url()}" in body
    assert "/orders/guest/" not in body


@pytest.mark.parametrize("kind", ["placed", "paid", "shipped", "cancelled"])
def test_every_order_email_of_a_guest_links_to_the_order(kind):
    order = guest_order()
    Email.objects.all().delete()

    queue_order_email(order, kind)

    [link] = [url for url in links_in(Email.objects.get()) if "/orders/guest/" in url]
    prefix = "https://testserver/orders/guest/"
    assert link.startswith(prefix)
    assert access.guest_order_from_token(link.removeprefix(prefix).rstrip("/")) == order


def test_order_emails_show_discount_shipping_tax_and_total(settings):
    settings.PRICES_INCLUDE_TAX = False
    TaxRateFactory(country="GB", name="VAT", rate=Decimal("20.000"))
    VoucherFactory(code="SPRING10")
    order = guest_order([(ProductFactory(price=Decimal("50.00"), stock=5), 2)], code="SPRING10")
    Email.objects.all().delete()

    queue_order_email(order, "paid")
    body = Email.objects.get().body

    assert order.discount > 0
    assert order.tax > 0
    assert "Subtotal   $100.00" in body
    assert f"Discount (SPRING10)   −${order.discount}" in body
    shipping = f"${order.shipping}" if order.shipping else "Free"
    assert f"Shipping ({order.shipping_method_name})   {shipping}" in body
    assert f"VAT (20%)   ${order.tax}" in body
    assert f"Total      ${order.total}" in body
    assert "Includes" not in body


def test_order_emails_with_tax_included_say_how_much_tax_the_total_includes(settings):
    settings.PRICES_INCLUDE_TAX = True
    TaxRateFactory(country="GB", name="VAT", rate=Decimal("20.000"))
    order = guest_order([(ProductFactory(price=Decimal("60.00"), stock=5), 1)])

    body = Email.objects.get(kind="order_placed").body

    assert order.prices_include_tax
    assert order.tax > 0
    assert f"Total      ${order.total}\n  Includes VAT (20%) of ${order.tax}\n" in body
    assert "Discount" not in body
    assert f"VAT (20%)   ${order.tax}" not in body


@pytest.mark.parametrize(
    ("name", "rate", "label"),
    [("VAT", Decimal("20.000"), "VAT (20%)"), ("Sales tax", Decimal("7.250"), "Sales tax (7.25%)"),
     ("", None, "Tax")],
)  # fmt: skip
def test_the_tax_is_named_with_its_rate_as_at_checkout(name, rate, label):
    assert tax_label(Order(tax_name=name, tax_rate=rate)) == label


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"SITE_URL": "https://shop.example.com/"}, "https://shop.example.com"),
        ({"CSRF_TRUSTED_ORIGINS": ["https://www.example.com"]}, "https://www.example.com"),
        ({"ALLOWED_HOSTS": [".example.com"]}, "https://example.com"),
        ({"ALLOWED_HOSTS": ["*", "shop.test"], "DEBUG": True}, "http://shop.test:8000"),
    ],
)
def test_email_links_use_the_stores_public_address(settings, overrides, expected):
    settings.CSRF_TRUSTED_ORIGINS = []
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert site_url() == expected


# --- Joining past guest orders to an account ---------------------------------------------------


@pytest.fixture
def ada(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    return user


def ask_to_claim(client):
    return client.post(reverse("orders:claim"), follow=True)


def claim_link(user):
    [link] = links_in(Email.objects.get(kind="orders_claim", recipient=user.email))
    return path_of(link)


def test_guest_orders_join_the_account_only_once_the_emailed_link_is_followed(client, ada):
    first = guest_order(email="ada@example.com")
    second = guest_order(email="ADA@Example.com")
    someone_elses = guest_order(email="grace@example.com")
    other_account = place_order([(ProductFactory(), 1)])

    asked = ask_to_claim(client)
    assert "we have sent a link" in asked.content.decode()
    assert Order.objects.filter(user=ada).count() == 0
    link = claim_link(ada)

    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    assert "2 orders" in confirm_page.content.decode()
    assert Order.objects.filter(user=ada).count() == 0

    done = client.post(link, follow=True)

    assert "Added 2 past orders to your account." in done.content.decode()
    assert set(Order.objects.filter(user=ada)) == {first, second}
    assert Order.objects.get(pk=someone_elses.pk).user_id is None
    assert Order.objects.get(pk=other_account.pk).user_id != ada.pk
    history = client.get(reverse("orders:list")).content.decode()
    assert first.number in history
    assert second.number in history


def test_a_claim_email_goes_only_to_the_accounts_own_address(client, ada):
    guest_order(email="ada@example.com")

    ask_to_claim(client)

    [email] = Email.objects.filter(kind="orders_claim")
    assert email.recipient == "ada@example.com"


def test_asking_without_guest_orders_sends_nothing_and_says_the_same(client, ada):
    guest_order(email="grace@example.com")

    asked = ask_to_claim(client)

    assert "we have sent a link" in asked.content.decode()
    assert not Email.objects.filter(kind="orders_claim").exists()


def test_the_claim_needs_a_signed_in_user_and_a_post(client):
    assert client.post(reverse("orders:claim"))["Location"].startswith(reverse("accounts:login"))
    client.force_login(UserFactory())
    assert client.get(reverse("orders:claim")).status_code == 405


def test_a_claim_link_following_it_signed_out_asks_to_sign_in_first(client, ada):
    order = guest_order(email="ada@example.com")
    ask_to_claim(client)
    link = claim_link(ada)
    client.logout()

    response = client.post(link)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert Order.objects.get(pk=order.pk).user_id is None


def test_another_users_claim_link_is_refused(client, ada):
    order = guest_order(email="ada@example.com")
    ask_to_claim(client)
    link = claim_link(ada)
    client.force_login(UserFactory(email="mallory@example.com"))

    seen = client.get(link)
    posted = client.post(link)

    assert seen.status_code == posted.status_code == 404
    assert "sent for another account" in posted.content.decode()
    assert Order.objects.get(pk=order.pk).user_id is None


def test_a_claim_link_after_the_account_changed_its_email_is_refused(client, ada):
    order = guest_order(email="ada@example.com")
    ask_to_claim(client)
    link = claim_link(ada)
    ada.email = "ada.lovelace@example.com"
    ada.save()

    assert client.post(link).status_code == 404
    assert Order.objects.get(pk=order.pk).user_id is None


def token_issued(user, seconds_ago):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - seconds_ago):
        return access.claim_token(user)


def test_an_expired_claim_link_is_refused_and_a_fresh_one_works(client, ada):
    order = guest_order(email="ada@example.com")
    max_age = access.CLAIM_MAX_AGE.total_seconds()
    expired = reverse("orders:claim_confirm", args=[token_issued(ada, max_age + 60)])
    fresh = reverse("orders:claim_confirm", args=[token_issued(ada, max_age - 60)])

    refused = client.post(expired)
    assert refused.status_code == 404
    assert "expired" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).user_id is None

    client.post(fresh)
    assert Order.objects.get(pk=order.pk).user_id == ada.pk


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: tampered(access.claim_token(user)), id="one-char"),
        pytest.param(
            lambda user: signing.dumps({"u": user.pk, "e": user.email}, salt=access.SALT),
            id="guest-link-salt",
        ),
        pytest.param(lambda user: "garbage", id="garbage"),
    ],
)
def test_a_tampered_claim_link_is_refused(client, ada, make_token):
    order = guest_order(email="ada@example.com")

    response = client.post(reverse("orders:claim_confirm", args=[make_token(ada)]))

    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert Order.objects.get(pk=order.pk).user_id is None


def test_a_claimed_order_leaves_the_guest_session_that_had_it(client, ada):
    order = guest_order(email="ada@example.com")
    guest = Client()
    follow_guest_link(guest, order)

    access.guest_orders_claim(user=ada, email="ada@example.com")

    assert hidden(guest, order)
    assert client.get(order.get_absolute_url()).status_code == 200


def test_the_orders_page_offers_to_add_past_guest_orders(client, ada):
    html = client.get(reverse("orders:list")).content.decode()
    assert reverse("orders:claim") in html
    assert "Add my past guest orders" in html
