"""Give Catalog managers full control of categories and products."""

from django.db import migrations

from accounts.roles import CATALOG_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = [
    f"{action}_{model}"
    for model in ("category", "product")
    for action in ("add", "change", "delete", "view")
]


def grant(apps, schema_editor):
    grant_permissions(apps, CATALOG_MANAGERS, "catalog", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, CATALOG_MANAGERS, "catalog", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
