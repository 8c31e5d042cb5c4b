"""Signal receivers of the catalog app: cached pages follow every catalogue change."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.cache import catalog_changed
from catalog.models import Category, Product


@receiver([post_save, post_delete], sender=Product, dispatch_uid="catalog.product_changed")
@receiver([post_save, post_delete], sender=Category, dispatch_uid="catalog.category_changed")
def catalogue_changed(sender, **kwargs):
    catalog_changed()
