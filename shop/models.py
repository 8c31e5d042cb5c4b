"""The email outbox: every email the store sends, written with the change that causes it."""

from django.db import models


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class Email(models.Model):
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the status last changed: tells a send still under way from one whose worker died.
    updated = models.DateTimeField(auto_now=True)
    recipient = models.EmailField(max_length=254)
    # Text, not a bounded column: a long store name must never fail the change that queues it.
    subject = models.TextField()
    # Plain text. A secret body (a password-reset link) is never shown in the back office and is
    # blanked once sent.
    body = models.TextField()
    # The same email as HTML, sent as an alternative to the text; empty: text only. Blanked with
    # the body once a secret email is sent.
    html_body = models.TextField("HTML body", blank=True)
    secret = models.BooleanField(default=False)
    kind = models.CharField(max_length=32, help_text="e.g. order_placed, password_reset")
    reference = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="What it is about: an order number."
    )
    status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        permissions = [("resend_email", "Can resend an email")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values), name="email_status_valid"
            )
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient} ({self.status})"
