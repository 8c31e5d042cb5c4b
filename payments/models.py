"""Payment attempts for orders and the provider events that moved them."""

from django.db import models


class PaymentStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    MISMATCH = "mismatch", "Amount or currency mismatch"
    REFUND_PENDING = "refund_pending", "Refund requested"
    REFUNDED = "refunded", "Refunded"


class Payment(models.Model):
    """One Checkout Session for an order. An order may need several (a retry after expiry)."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    attempt = models.PositiveSmallIntegerField()
    session_id = models.CharField(max_length=255, unique=True)
    url = models.URLField(max_length=2000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.OPEN
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # Why money was, or is being, given back without anyone asking (e.g. the order was cancelled).
    refund_reason = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="payments_one_per_attempt"),
            models.CheckConstraint(
                condition=models.Q(status__in=PaymentStatus.values),
                name="payments_payment_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.session_id} ({self.status})"


class WebhookEvent(models.Model):
    """Each provider event, stored once: a second delivery of the same id is not acted on."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    received = models.DateTimeField(auto_now_add=True)
    processed = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received", "-id"]

    def __str__(self):
        return f"{self.type} {self.event_id}"
