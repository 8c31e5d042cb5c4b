from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The system checks, and the receivers that expire open payment sessions before an
        # order is cancelled (see orders.signals) and deliver the local stand-in's events.
        from payments import checks, receivers  # noqa: F401
        from payments.providers import provider

        # Loaded now, so that a PAYMENT_PROVIDER that cannot be used stops every process at
        # start-up (ImproperlyConfigured), gunicorn's workers too, which run no system checks.
        provider()
