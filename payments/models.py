"""Payment attempts for orders and the provider events that moved them."""

from django.conf import settings
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


class RefundState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RefundSource(models.TextChoices):
    BACK_OFFICE = "back office", "Back office"
    RETURN = "return", "Return"
    PAYMENT_PROVIDER = "payment provider", "Payment provider"


class RefundQuerySet(models.QuerySet):
    def counting(self):
        """Refunds that hold money: pending or succeeded. A failed refund gave nothing back."""
        return self.exclude(state=RefundState.FAILED)


class Refund(models.Model):
    """Money given back on an order's payment, of any size (payments.services.refund_create).

    States: pending -> succeeded | failed; a failed refund may be sent again (pending) by
    payments_reconcile with the same idempotency key. Refunds that are not failed never add up
    to more than the order's total (checked under the order's row lock).
    """

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # Whether the refund's lines went back on sale when it was made.
    restock = models.BooleanField(default=False)
    reason = models.TextField(max_length=1000, blank=True)
    state = models.CharField(
        max_length=20, choices=RefundState.choices, default=RefundState.PENDING
    )
    # The provider's id for it: NULL until the provider has answered.
    provider_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # Why the provider did not make it, shown to staff.
    failure = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        max_length=20, choices=RefundSource.choices, default=RefundSource.BACK_OFFICE
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=RefundState.values), name="payments_refund_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=RefundSource.values),
                name="payments_refund_source_valid",
            ),
        ]

    def __str__(self):
        return f"Refund {self.pk} of {self.amount} {self.currency} ({self.state})"

    @property
    def idempotency_key(self) -> str:
        """The key every request to the provider for this refund carries, retries included."""
        return f"refund-{self.pk}"


class RefundLine(models.Model):
    """Of a refund, how many of one order line it gives money back for (and restocks)."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey("orders.OrderItem", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["refund", "item"], name="payments_refundline_item_once"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="payments_refundline_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.item.name}"
