from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Pricing: shipping, taxes and discount codes"

    def ready(self):
        from pricing import receivers  # noqa: F401 -- connects the signal receivers
