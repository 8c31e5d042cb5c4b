"""Emails carry an optional HTML alternative to their plain-text body."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0002_order_managers_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="email",
            name="html_body",
            field=models.TextField(blank=True, verbose_name="HTML body"),
        ),
    ]
