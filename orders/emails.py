"""What the customer is told about their order, rendered from templates/orders/email/.

Each email is plain text (<kind>.txt) with an HTML alternative (<kind>.html, on the store's one
email layout, templates/email/base.html). Which order status sends which kind is for the status
table, orders/status.py.
"""

from django.conf import settings
from django.template.loader import render_to_string

from orders.access import CLAIM_MAX_AGE, claim_url, guest_orders_for_email, guest_url
from shop.emails import email_queue

SUBJECTS = {
    "placed": "Your order {number} is placed",
    "paid": "Payment received for order {number}",
    "payment_failed": "We could not take payment for order {number}",
    "shipped": "Your order {number} is on its way",
    "delivered": "Your order {number} has been delivered",
    "cancelled": "Your order {number} is cancelled",
    "link": "Your link to order {number}",
    "return_requested": "We have your return request for order {number}",
    "return_approved": "Your return for order {number} is approved",
    "return_refused": "Your return for order {number} was not accepted",
    "return_received": "We received the items you returned from order {number}",
    "refund_issued": "A refund for order {number}",
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


def _web_link(url) -> str:
    """`url` if it is a web address, else "": a link in an email may open nothing else."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def _render(template, context):
    """The plain text and the HTML of one email, from `template`.txt and `template`.html."""
    text = render_to_string(f"{template}.txt", context)
    return text, render_to_string(f"{template}.html", context)


def _context(order, items, kind, subject, reason, extra):
    return {
        **extra,
        "order": order,
        "items": items,
        "store_name": settings.STORE_NAME,
        "site_url": site_url(),
        "subject": subject,
        "kind": kind,
        "reason": reason,
        "order_url": order_link(order),
        # Shipped orders may carry tracking; an order without it (or these fields) shows none.
        "tracking_url": _web_link(getattr(order, "tracking_url", "") or ""),
        "tax_label": tax_label(order),
        # Tax on top of the prices is a line of its own; tax in them is said under the total.
        "tax_added": not order.prices_include_tax and bool(order.tax or order.tax_name),
        "tax_included": order.prices_include_tax and bool(order.tax),
    }


def queue_order_email(order, kind, items=None, *, reason="", return_request=None, refund=None):
    """Queue the customer's email about their order, in the transaction that changed the order.

    `kind` is one of SUBJECTS. `items` are the order's lines when the caller has them at hand
    (read once more otherwise). `reason` says why, where the email shows one (cancelled).
    `return_request` (orders.models.Return) for the return emails, `refund` (payments' Refund)
    for refund_issued.
    The email outbox sends it after commit; a mail server that is down or hung delays the email
    and never the change.
    """
    subject = f"{settings.STORE_NAME}: {SUBJECTS[kind].format(number=order.number)}"
    if items is None:
        items = list(order.items.all())
    extra = {"return_request": return_request, "refund": refund}
    body, html_body = _render(
        f"orders/email/{kind}", _context(order, items, kind, subject, reason, extra)
    )
    email_queue(
        to=order.email,
        subject=subject,
        body=body,
        html_body=html_body,
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
    subject = f"{settings.STORE_NAME}: Add your past orders to your account"
    context = {
        "user": user,
        "count": count,
        "store_name": settings.STORE_NAME,
        "site_url": site_url(),
        "subject": subject,
        "claim_url": site_url() + claim_url(user),
        "days": CLAIM_MAX_AGE.days,
    }
    body, html_body = _render("orders/email/claim", context)
    email_queue(to=user.email, subject=subject, body=body, html_body=html_body, kind="orders_claim")
    return True
