"""`{{ amount|money }}`: a Decimal shown in the store's currency, the way shoppers read prices."""

from babel.numbers import format_currency
from django import template
from django.conf import settings
from django.utils.translation import to_locale

register = template.Library()


@register.filter
def money(amount, currency=None):
    if amount is None or amount == "":
        return ""
    return format_currency(
        amount, currency or settings.STORE_CURRENCY, locale=to_locale(settings.LANGUAGE_CODE)
    )
