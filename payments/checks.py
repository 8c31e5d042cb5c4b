"""System checks of the payments app."""

from django.conf import settings
from django.core.checks import Error, register

from payments.providers import provider, provider_path
from shop.money import fits_currency


@register("payments")
def local_stand_in_is_development_only(app_configs, **kwargs):
    # Beside the refusal in settings, which sees only the names of the built-in stand-in: this
    # sees the class, whatever path leads to it.
    if provider().development_only and not settings.DEBUG:
        return [
            Error(
                f"The payment provider {provider_path()} is a development stand-in and DEBUG "
                "is off.",
                hint="A stand-in takes no money. Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET "
                "(PAYMENT_BACKEND=stripe, PAYMENT_PROVIDER empty) in production.",
                id="payments.E001",
            )
        ]
    return []


@register("payments")
def shipping_amounts_fit_the_currency(app_configs, **kwargs):
    """Shipping is charged as its own line: it must be an amount the currency can express."""
    errors = []
    for name in ("SHIPPING_FLAT_RATE", "FREE_SHIPPING_THRESHOLD"):
        amount = getattr(settings, name)
        if amount is not None and not fits_currency(amount, settings.STORE_CURRENCY):
            errors.append(
                Error(
                    f"{name} is {amount}, with more decimals than {settings.STORE_CURRENCY} has.",
                    hint=f"Set it in whole units of {settings.STORE_CURRENCY}.",
                    id="payments.E002",
                )
            )
    return errors
