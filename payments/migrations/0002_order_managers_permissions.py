"""Let Order managers see payments and provider events."""

from django.db import migrations

from accounts.roles import ORDER_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = ["view_payment", "view_webhookevent"]


def grant(apps, schema_editor):
    grant_permissions(apps, ORDER_MANAGERS, "payments", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, ORDER_MANAGERS, "payments", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
