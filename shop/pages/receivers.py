"""Cached pages show the footer's page links, so every page edit moves the catalogue version."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.cache import catalog_changed
from shop.pages.models import Page


@receiver([post_save, post_delete], sender=Page, dispatch_uid="pages.page_changed")
def page_changed(sender, **kwargs):
    catalog_changed()
