"""Give Catalog managers the pricing (delivery, tax, discount codes) and Order managers a view
of the codes and their uses."""

from django.db import migrations

from accounts.roles import CATALOG_MANAGERS, ORDER_MANAGERS, grant_permissions, revoke_permissions

EDITABLE = ["shippingzone", "shippingmethod", "taxrate", "voucher"]
CATALOG = [
    f"{action}_{model}" for model in EDITABLE for action in ("add", "change", "delete", "view")
]
CATALOG.append("view_voucherredemption")
ORDERS = ["view_voucher", "view_voucherredemption"]


def grant(apps, schema_editor):
    grant_permissions(apps, CATALOG_MANAGERS, "pricing", CATALOG)
    grant_permissions(apps, ORDER_MANAGERS, "pricing", ORDERS)


def revoke(apps, schema_editor):
    revoke_permissions(apps, CATALOG_MANAGERS, "pricing", CATALOG)
    revoke_permissions(apps, ORDER_MANAGERS, "pricing", ORDERS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("pricing", "0002_worldwide_zone"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
