"""Path converters for the identifiers the store puts in its URLs.

A URL segment that cannot be one of these identifiers never reaches a view, so a NUL byte or a
kilobyte of junk is a plain 404 instead of a query PostgreSQL refuses (it rejects NUL in a
string) and a 500.
"""

from django.urls import register_converter


class OrderNumberConverter:
    """An order's public number (orders.services.order_number: `ABCDE-FGH23`).

    Wider than what is issued today (any letter case, any length up to the column's 16), so a
    number typed in lower case or a future format still reaches the view, which answers 404
    for anything that is not the shopper's own order.
    """

    regex = "[A-Za-z0-9-]{1,16}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class PaymentSessionConverter:
    """A payment provider's session id, as long as Payment.session_id holds (255).

    Stripe's are letters, digits and `_`; the local stand-in's end in `secrets.token_urlsafe`,
    which also uses `-`.
    """

    regex = "[A-Za-z0-9_-]{1,255}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


# Registered here, once: the URL modules import this module before using the names.
register_converter(OrderNumberConverter, "order_number")
register_converter(PaymentSessionConverter, "payment_session")
