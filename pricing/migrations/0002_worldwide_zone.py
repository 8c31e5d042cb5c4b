"""The first shipping zone: what the store charged before zones, for every country.

SHIPPING_FLAT_RATE and FREE_SHIPPING_THRESHOLD were the whole of delivery pricing; an existing
store keeps charging what it charged until staff edit the zone or add others.
"""

from django.conf import settings
from django.db import migrations


def create_worldwide_zone(apps, schema_editor):
    ShippingZone = apps.get_model("pricing", "ShippingZone")
    ShippingMethod = apps.get_model("pricing", "ShippingMethod")
    if ShippingZone.objects.exists():
        return
    zone = ShippingZone.objects.create(name="Worldwide", rest_of_world=True)
    ShippingMethod.objects.create(
        zone=zone,
        name="Standard delivery",
        price=settings.SHIPPING_FLAT_RATE,
        free_from=settings.FREE_SHIPPING_THRESHOLD,
    )


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]

    operations = [migrations.RunPython(create_worldwide_zone, migrations.RunPython.noop)]
