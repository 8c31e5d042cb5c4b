"""Content pages in the back office, for Catalog managers."""

from django.contrib import admin

from shop.pages.models import Page


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "is_published", "footer_order", "updated")
    list_filter = ("is_published",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    fields = ("title", "slug", "body", ("is_published", "footer_order"))
