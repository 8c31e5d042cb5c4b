"""What the customer is told about their order, rendered from templates/orders/email/."""

from django.conf import settings
from django.template.loader import render_to_string

from shop.emails import email_queue

SUBJECTS = {
    "placed": "Your order {number} is placed",
    "paid": "Payment received for order {number}",
    "shipped": "Your order {number} is on its way",
    "cancelled": "Your order {number} is cancelled",
}


def queue_order_email(order, kind, items=None):
    """Queue the customer's email about their order, in the transaction that changed the order.

    `items` are the order's lines when the caller has them at hand (read once more otherwise).
    The email outbox sends it after commit; a mail server that is down or hung delays the email
    and never the change.
    """
    if items is None:
        items = list(order.items.all())
    context = {"order": order, "items": items, "store_name": settings.STORE_NAME, "kind": kind}
    email_queue(
        to=order.email,
        subject=f"{settings.STORE_NAME}: {SUBJECTS[kind].format(number=order.number)}",
        body=render_to_string(f"orders/email/{kind}.txt", context),
        kind=f"order_{kind}",
        reference=order.number,
    )
