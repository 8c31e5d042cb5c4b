from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self):
        # Saves and deletes of products and categories invalidate the cached catalogue pages.
        from catalog import receivers  # noqa: F401
