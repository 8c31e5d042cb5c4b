from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The system check refusing the stand-in in production, and the receiver that expires
        # open payment sessions before an order is cancelled (see orders.signals).
        from payments import checks, receivers  # noqa: F401
