"""System checks of the payments app."""

from django.conf import settings
from django.core.checks import Error, register


@register("payments")
def local_stand_in_is_development_only(app_configs, **kwargs):
    if settings.PAYMENT_BACKEND == "local" and not settings.DEBUG:
        return [
            Error(
                "PAYMENT_BACKEND is 'local' while DEBUG is off.",
                hint="The local stand-in takes no money. Set STRIPE_SECRET_KEY and "
                "STRIPE_WEBHOOK_SECRET (PAYMENT_BACKEND=stripe) in production.",
                id="payments.E001",
            )
        ]
    return []
