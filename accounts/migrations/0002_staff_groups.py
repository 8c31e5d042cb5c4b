"""Create the staff groups. Later apps grant them their own models' permissions."""

from django.db import migrations

from accounts.roles import CATALOG_MANAGERS, ORDER_MANAGERS, grant_permissions


def create_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=CATALOG_MANAGERS)
    # Order managers look customers up when handling an order; they cannot edit accounts.
    grant_permissions(apps, ORDER_MANAGERS, "accounts", ["view_user"])


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[CATALOG_MANAGERS, ORDER_MANAGERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
