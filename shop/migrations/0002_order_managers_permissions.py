"""Let Order managers see the email outbox and resend an email that failed."""

from django.db import migrations

from accounts.roles import ORDER_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = ["view_email", "resend_email"]


def grant(apps, schema_editor):
    grant_permissions(apps, ORDER_MANAGERS, "shop", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, ORDER_MANAGERS, "shop", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("shop", "0001_outbox"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
