"""What the customer is told about their order, rendered from templates/orders/email/."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

SUBJECTS = {
    "placed": "Your order {number} is placed",
    "paid": "Payment received for order {number}",
    "shipped": "Your order {number} is on its way",
    "cancelled": "Your order {number} is cancelled",
}


def send_order_email(order, kind, items=None):
    """Email the customer about their order. Called after commit, with the order as committed.

    `items` are the order's lines when the caller has them at hand (read once more otherwise).
    A mail server failure is logged and does not undo the order change that caused it.
    """
    if items is None:
        items = list(order.items.all())
    context = {"order": order, "items": items, "store_name": settings.STORE_NAME, "kind": kind}
    try:
        send_mail(
            subject=f"{settings.STORE_NAME}: {SUBJECTS[kind].format(number=order.number)}",
            message=render_to_string(f"orders/email/{kind}.txt", context),
            from_email=None,
            recipient_list=[order.email],
        )
    except Exception:
        logger.exception("order email %s for %s could not be sent", kind, order.number)
