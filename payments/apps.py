from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The system checks, and the receivers that expire open payment sessions before an
        # order is cancelled (see orders.signals) and deliver the local stand-in's events.
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from payments import checks, receivers  # noqa: F401
        from payments.providers import provider, provider_path

        # Loaded now, so that a PAYMENT_PROVIDER that cannot be used stops every process at
        # start-up (ImproperlyConfigured), gunicorn's workers too, which run no system checks;
        # and so does a development-only one (the stand-in, by any path) in production.
        if provider().development_only and not settings.DEBUG:
            raise ImproperlyConfigured(
                f"PAYMENT_PROVIDER {provider_path()} is for development only and cannot take "
                "real payments: use a real provider, or DEBUG=true for development."
            )
