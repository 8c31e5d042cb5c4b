"""Create the staff groups. Later apps grant them their own models' permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Catalog managers": [],
    # Order managers look customers up when handling an order; they cannot edit accounts.
    "Order managers": [("accounts", "view_user")],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after the whole migrate run; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
