"""`{{ amount|money }}`: a Decimal shown in the store's currency, the way shoppers read prices."""

from decimal import Decimal

from babel.numbers import format_currency
from django import template
from django.conf import settings
from django.utils.translation import to_locale

register = template.Library()

# Amounts already formatted, by their exact text: Babel takes tens of microseconds an amount, and
# a cart or checkout page shows a dozen or more, mostly the same prices and totals again and
# again. The same Decimal text always reads the same, so nothing here can go stale; it is
# emptied when full, so it never holds more than MONEY_CACHE_SIZE amounts.
MONEY_CACHE_SIZE = 4096
_formatted = {}


@register.filter
def money(amount, currency=None):
    if amount is None or amount == "":
        return ""
    currency = currency or settings.STORE_CURRENCY
    if type(amount) not in (Decimal, int):
        return _format(amount, currency)
    # The type and the text: Decimal("5.0") and Decimal("5.00") are equal, but kept apart.
    key = (type(amount), str(amount), currency, settings.LANGUAGE_CODE)
    text = _formatted.get(key)
    if text is None:
        text = _format(amount, currency)
        if len(_formatted) >= MONEY_CACHE_SIZE:
            _formatted.clear()
        _formatted[key] = text
    return text


def _format(amount, currency):
    return format_currency(amount, currency, locale=to_locale(settings.LANGUAGE_CODE))
