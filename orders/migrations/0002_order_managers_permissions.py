"""Give Order managers the orders: view them and change their status (through the actions)."""

from django.db import migrations

from accounts.roles import ORDER_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = ["view_order", "change_order", "view_orderitem", "view_orderevent"]


def grant(apps, schema_editor):
    grant_permissions(apps, ORDER_MANAGERS, "orders", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, ORDER_MANAGERS, "orders", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("orders", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
