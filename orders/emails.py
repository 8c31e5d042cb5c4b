"""What the customer is told about their order, rendered from templates/orders/email/."""

from django.conf import settings
from django.template.loader import render_to_string

from orders.access import CLAIM_MAX_AGE, claim_url, guest_orders_for_email, guest_url
from shop.emails import email_queue

SUBJECTS = {
    "placed": "Your order {number} is placed",
    "paid": "Payment received for order {number}",
    "shipped": "Your order {number} is on its way",
    "cancelled": "Your order {number} is cancelled",
    "link": "Your link to order {number}",
}


def site_url() -> str:
    """The store's address for links in emails, which are written with no request at hand
    (a webhook, the back office, a command).

    SITE_URL if the settings have one; else the first CSRF trusted origin (production sets it
    to the public address); else the first plain host in ALLOWED_HOSTS, over https (http on
    runserver's port in development).
    """
    configured = getattr(settings, "SITE_URL", "")
    if configured:
        return configured.rstrip("/")
    for origin in settings.CSRF_TRUSTED_ORIGINS:
        if "*" not in origin:
            return origin.rstrip("/")
    host = next(
        (h.lstrip(".") for h in settings.ALLOWED_HOSTS if h.lstrip(".") and "*" not in h),
        "localhost",
    )
    return f"http://{host}:8000" if settings.DEBUG else f"https://{host}"


def order_link(order) -> str:
    """The absolute link to the order: a guest's signed link, or the page in the account."""
    path = guest_url(order) if order.is_guest else order.get_absolute_url()
    return site_url() + path


def tax_label(order) -> str:
    """ "VAT (20%)": the order's tax and its rate, as the checkout page names them."""
    name = order.tax_name or "Tax"
    if order.tax_rate is None:
        return name
    return f"{name} ({format(order.tax_rate.normalize(), 'f')}%)"


def _context(order, items, kind):
    return {
        "order": order,
        "items": items,
        "store_name": settings.STORE_NAME,
        "kind": kind,
        "order_url": order_link(order),
        "tax_label": tax_label(order),
        # Tax on top of the prices is a line of its own; tax in them is said under the total.
        "tax_added": not order.prices_include_tax and bool(order.tax or order.tax_name),
        "tax_included": order.prices_include_tax and bool(order.tax),
    }


def queue_order_email(order, kind, items=None):
    """Queue the customer's email about their order, in the transaction that changed the order.

    `items` are the order's lines when the caller has them at hand (read once more otherwise).
    The email outbox sends it after commit; a mail server that is down or hung delays the email
    and never the change.
    """
    if items is None:
        items = list(order.items.all())
    email_queue(
        to=order.email,
        subject=f"{settings.STORE_NAME}: {SUBJECTS[kind].format(number=order.number)}",
        body=render_to_string(f"orders/email/{kind}.txt", _context(order, items, kind)),
        kind=f"order_{kind}",
        reference=order.number,
    )


def queue_order_link_email(order):
    """Queue the email answering an order lookup: the link back to the order, to its address."""
    queue_order_email(order, "link", items=[])


def queue_guest_orders_claim_email(user) -> bool:
    """Queue the email that proves the user reads their address: a link that adds the guest
    orders placed with it to the account. Nothing is sent when there are none; True if sent."""
    count = guest_orders_for_email(user.email).count()
    if not count:
        return False
    context = {
        "user": user,
        "count": count,
        "store_name": settings.STORE_NAME,
        "claim_url": site_url() + claim_url(user),
        "days": CLAIM_MAX_AGE.days,
    }
    email_queue(
        to=user.email,
        subject=f"{settings.STORE_NAME}: Add your past orders to your account",
        body=render_to_string("orders/email/claim.txt", context),
        kind="orders_claim",
    )
    return True
