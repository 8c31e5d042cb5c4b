"""Orders refunded before refunds had records of their own get one: their whole total,
succeeded, at the time they became refunded, so reports count that money as refunded."""

from django.db import migrations


def record_past_refunds(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    for order in Order.objects.filter(status="refunded", refunds__isnull=True).iterator():
        payment = (
            Payment.objects.filter(order=order, refund_reason="", status="refunded")
            .order_by("attempt")
            .first()
        )
        if payment is None:
            continue
        refund = Refund.objects.create(
            order=order,
            payment=payment,
            amount=order.total,
            currency=order.currency,
            reason="Refunded before refunds were recorded one by one",
            state="succeeded",
            source="back office",
        )
        moved = (
            OrderEvent.objects.filter(order=order, to_status="refunded")
            .order_by("-created")
            .values_list("created", flat=True)
            .first()
        )
        # Counted on the day the order was refunded, not the day of this migration.
        Refund.objects.filter(pk=refund.pk).update(
            created=moved or payment.updated, updated=moved or payment.updated
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_refund"),
        ("orders", "0010_order_timeline_and_returns"),
    ]

    operations = [migrations.RunPython(record_past_refunds, migrations.RunPython.noop)]
