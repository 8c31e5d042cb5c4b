"""Who may see an order: its signed-in owner, or the guest who placed it.

A guest reaches their order through a signed link (the order's number and email, signed with
the site's secret key: unguessable, and useless for any other order), never by number alone.
Following the link, or placing the order, lets this browser's session see the order.

Guest orders join an account only once its owner proves the email address: a signed,
time-limited claim link goes to that address, and following it while signed in attaches them.
"""

import logging
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import normalize_email
from orders.models import Order

logger = logging.getLogger(__name__)

GUEST_ORDERS = "guest_orders"  # session key: the numbers of the guest orders this session may see
GUEST_ORDERS_KEPT = 20
SALT = "orders.guest-link"


def guest_token(order) -> str:
    return signing.dumps({"n": order.number, "e": order.email.lower()}, salt=SALT)


def guest_url(order) -> str:
    """The path of the order's guest link (emails make it absolute)."""
    return reverse("orders:guest", args=[guest_token(order)])


def guest_order_from_token(token: str) -> Order:
    """The order a guest link names; Http404 for a link tampered with or for no order."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise Http404("No such order.") from None
    if not isinstance(data, dict):
        raise Http404("No such order.")
    return get_object_or_404(Order, number=data.get("n"), email__iexact=data.get("e") or "")


def guest_grant(request, order) -> None:
    """Let this session see the guest order (the newest few are kept)."""
    numbers = [n for n in request.session.get(GUEST_ORDERS, []) if n != order.number]
    request.session[GUEST_ORDERS] = [order.number, *numbers][:GUEST_ORDERS_KEPT]


def visible_orders(request):
    """The orders this request may see: the user's own, and the session's guest orders."""
    condition = Q(pk__in=[])
    if request.user.is_authenticated:
        condition |= Q(user=request.user)
    numbers = request.session.get(GUEST_ORDERS) or []
    if numbers:
        condition |= Q(user__isnull=True, number__in=numbers)
    return Order.objects.filter(condition)


def order_for_request(request, number) -> Order:
    """The order if this request may see it; anyone else's is a 404 (numbers are not to be
    probed)."""
    return get_object_or_404(visible_orders(request), number=number)


def order_lookup(*, number, email):
    """The order with this number and email (any letter case), or None."""
    return Order.objects.filter(number=number.strip().upper(), email__iexact=email.strip()).first()


# --- Joining past guest orders to an account ---------------------------------------------------

CLAIM_SALT = "orders.claim-guest-orders"  # apart from SALT: a guest link is never a claim link
CLAIM_MAX_AGE = timedelta(days=3)


class ClaimLinkInvalid(Exception):
    """A claim link expired, tampered with, or sent for another account (the message says)."""


def guest_orders_for_email(email):
    """The guest orders placed with this email address (any letter case)."""
    return Order.objects.filter(user__isnull=True, email__iexact=normalize_email(email))


def claim_token(user) -> str:
    """A signed, timestamped token naming the account and the address the claim email goes to."""
    return signing.dumps({"u": user.pk, "e": normalize_email(user.email)}, salt=CLAIM_SALT)


def claim_url(user) -> str:
    """The path of the account's claim link (the email makes it absolute)."""
    return reverse("orders:claim_confirm", args=[claim_token(user)])


def claim_email_from_token(token: str, *, user) -> str:
    """The email address a claim link proves `user` reads; ClaimLinkInvalid if it proves none.

    The link must be this account's, for the address the account has now, and younger than
    CLAIM_MAX_AGE.
    """
    try:
        data = signing.loads(token, salt=CLAIM_SALT, max_age=CLAIM_MAX_AGE)
    except signing.SignatureExpired:
        raise ClaimLinkInvalid(
            "This link has expired. Ask for a new one from your orders page."
        ) from None
    except signing.BadSignature:
        raise ClaimLinkInvalid(
            "This link is not valid. Check that you copied all of it, or ask for a new one."
        ) from None
    email = normalize_email(user.email)
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("e") != email:
        raise ClaimLinkInvalid(
            "This link was sent for another account, or to an address this account no longer "
            "uses. Sign in to the account it was sent to, or ask for a new one."
        )
    return email


def guest_orders_claim(*, user, email) -> int:
    """Attach every guest order placed with `email` to `user`, all at once; how many joined.

    Only for an address the user has proved they read (claim_email_from_token).
    """
    with transaction.atomic():
        # Locked in pk order: two claims at once (a double click) wait rather than deadlock.
        pks = list(
            guest_orders_for_email(email)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        joined = Order.objects.filter(pk__in=pks, user__isnull=True).update(
            user=user, updated=timezone.now()
        )
    logger.info("user %s: %d guest orders joined the account", user.pk, joined)
    return joined
