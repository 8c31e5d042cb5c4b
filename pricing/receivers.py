"""Signal receivers of the pricing app: kept cart and checkout pages follow every change of
what they work figures out from (catalog.cache.cart_page)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.cache import catalog_changed
from pricing.models import ShippingMethod, ShippingZone, TaxRate


@receiver([post_save, post_delete], sender=ShippingZone, dispatch_uid="pricing.zone_changed")
@receiver([post_save, post_delete], sender=ShippingMethod, dispatch_uid="pricing.method_changed")
@receiver([post_save, post_delete], sender=TaxRate, dispatch_uid="pricing.tax_rate_changed")
def pricing_changed(sender, **kwargs):
    catalog_changed()
