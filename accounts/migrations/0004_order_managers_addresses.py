"""Let Order managers see customers' saved addresses (an inline on the customer's page)."""

from django.db import migrations

from accounts.roles import ORDER_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = ["view_address"]


def grant(apps, schema_editor):
    grant_permissions(apps, ORDER_MANAGERS, "accounts", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, ORDER_MANAGERS, "accounts", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_address_book")]

    operations = [migrations.RunPython(grant, revoke)]
