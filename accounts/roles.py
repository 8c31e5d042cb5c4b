"""Staff roles: the groups and how migrations hand them permissions."""

from django.contrib.auth.management import create_permissions

CATALOG_MANAGERS = "Catalog managers"
ORDER_MANAGERS = "Order managers"


def _permissions(apps, app_label, codenames):
    # Permissions are normally created after the whole migrate run; make sure they exist now.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)


def grant_permissions(apps, group_name, app_label, codenames):
    """For data migrations: give `group_name` these permissions of `app_label`."""
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.add(*_permissions(apps, app_label, codenames))


def revoke_permissions(apps, group_name, app_label, codenames):
    """The reverse of grant_permissions."""
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=group_name):
        group.permissions.remove(*_permissions(apps, app_label, codenames))
