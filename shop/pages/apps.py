from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "shop.pages"
    label = "pages"
    verbose_name = "Content pages"

    def ready(self):
        # Page edits invalidate the cached pages, whose footers list the pages.
        from shop.pages import receivers  # noqa: F401
