"""Create the default content pages (placeholder text) in a new store."""

from django.db import migrations

from shop.pages.defaults import create_missing_pages


def create_pages(apps, schema_editor):
    create_missing_pages(apps.get_model("pages", "Page"))


class Migration(migrations.Migration):
    dependencies = [("pages", "0001_initial")]

    # Going back leaves the pages: what staff wrote in them is not the migration's to delete.
    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
