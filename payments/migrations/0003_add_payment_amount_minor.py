from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_order_managers_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="amount_minor",
            field=models.PositiveBigIntegerField(null=True),
        ),
    ]
