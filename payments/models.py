"""Payment attempts for orders and the provider events that moved them."""

from django.db import models


class PaymentStatus(models.TextChoices):
    # Recorded before the provider is asked for a session, so that a retry after a lost answer
    # sends the same request under the same idempotency key.
    STARTING = "starting", "Starting"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    REFUND_PENDING = "refund_pending", "Refund requested"
    REFUNDED = "refunded", "Refunded"


class PaymentQuerySet(models.QuerySet):
    def refunding_order(self):
        """Refunds staff asked for: the money that paid the order is on its way back.

        Automatic refunds (a `refund_reason` is set) return money that never paid the order,
        such as a second payment or one that did not match the total; they do not count here.
        """
        return self.filter(status=PaymentStatus.REFUND_PENDING, refund_reason="")


class Payment(models.Model):
    """One Checkout Session for an order. An order may need several (a retry after expiry).

    Statuses: starting -> open -> paid | failed | expired; paid -> refund_pending -> refunded.
    A payment whose money cannot go to its order (the order was cancelled or paid already, or
    the amount or currency does not match what was asked for) goes to refund_pending with a
    `refund_reason` and is refunded automatically.
    """

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    attempt = models.PositiveSmallIntegerField()
    # Empty (NULL) only while the provider is being asked for the session.
    session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.OPEN
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # What the provider was asked to collect, in the currency's minor units (the sum of the
    # lines sent): a payment is applied only if the provider reports exactly this.
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    # Why money was, or is being, given back without anyone asking (e.g. the order was cancelled).
    refund_reason = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="payments_one_per_attempt"),
            models.CheckConstraint(
                condition=models.Q(status__in=PaymentStatus.values),
                name="payments_payment_status_valid",
            ),
            # Only a start that never got its session (still starting, or given up) lacks one.
            models.CheckConstraint(
                condition=models.Q(session_id__isnull=False)
                | models.Q(status__in=[PaymentStatus.STARTING, PaymentStatus.EXPIRED]),
                name="payments_payment_session_once_started",
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
