"""Let Catalog managers write the content pages."""

from django.db import migrations

from accounts.roles import CATALOG_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = [f"{action}_page" for action in ("add", "change", "delete", "view")]


def grant(apps, schema_editor):
    grant_permissions(apps, CATALOG_MANAGERS, "pages", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, CATALOG_MANAGERS, "pages", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("pages", "0002_default_pages"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
