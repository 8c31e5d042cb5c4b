"""Template context every page of the store needs."""

from django.conf import settings


def store(request):
    return {
        "store_name": settings.STORE_NAME,
        "store_currency": settings.STORE_CURRENCY,
        "prices_include_tax": settings.PRICES_INCLUDE_TAX,
    }
