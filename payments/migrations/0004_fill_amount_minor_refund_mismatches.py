"""Fill Payment.amount_minor, and send money that was left with a mismatched payment back.

A payment whose amount or currency did not match its order used to stay "mismatch" with nobody
acting on it. Such payments become automatic refunds, which reconcile_payments sends.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

# Frozen here so later changes to shop.money cannot change what this migration did.
ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip
THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}
MISMATCH_REASON = "the amount or currency paid did not match the order"


def to_minor_units(amount, currency):
    currency = currency.upper()
    exponent = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    minor = (Decimal(amount) * (10**exponent)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if exponent == 3:
        minor = (minor / 10).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 10
    return int(minor)


def forwards(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    for payment in Payment.objects.filter(amount_minor__isnull=True).iterator():
        payment.amount_minor = to_minor_units(payment.amount, payment.currency)
        payment.save(update_fields=["amount_minor"])
    Payment.objects.filter(status="mismatch").update(
        status="refund_pending", refund_reason=MISMATCH_REASON
    )


def backwards(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Payment.objects.filter(status="refund_pending", refund_reason=MISMATCH_REASON).update(
        status="mismatch", refund_reason=""
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_add_payment_amount_minor"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
