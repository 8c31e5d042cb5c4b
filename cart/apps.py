from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"

    def ready(self):
        # Connects the merge of a guest's cart to django.contrib.auth's user_logged_in signal.
        from cart import receivers  # noqa: F401
