"""The email outbox: an email is queued with the change that causes it, and a worker sends it.

email_queue() writes the Email row and its send task in the caller's transaction, so an email
exists exactly when its change commits, and no request ever waits on the mail server. The task
runs in `manage.py db_worker` (django-tasks' database backend): it sends with EMAIL_TIMEOUT,
tries again after each of EMAIL_RETRY_DELAYS, and records every failure on the row, where staff
see it in the back office and can resend.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from shop.models import Email, EmailStatus

logger = logging.getLogger(__name__)

# An email still "sending" after this long lost its worker: one attempt takes a few times
# EMAIL_TIMEOUT at most. Before that, a resend could send it twice.
STUCK_AFTER = timedelta(minutes=15)
# SMTP errors can quote the address they refused; addresses are never logged.
ADDRESS = re.compile(r"[^\s<>()\[\]'\",;:]+@[^\s<>()\[\]'\",;:]+")


def email_queue(*, to, subject, body, kind, reference="", secret=False, html_body=""):
    """Queue an email to `to`; sent by the worker once the caller's transaction commits.

    `body` is plain text; `html_body`, when given, goes with it as the HTML alternative (mail
    programs show the one they can). `kind` and `reference` (an order number) are for staff
    looking it up; a `secret` email (a password-reset link) is never shown to them and both its
    bodies are blanked once sent.
    """
    # No savepoint: inside the caller's transaction this costs no extra queries, and a failure
    # here fails the caller's change with it, which is the point.
    with transaction.atomic(savepoint=False):
        email = Email.objects.create(
            recipient=to,
            subject=subject,
            body=body,
            html_body=html_body,
            kind=kind,
            reference=reference,
            secret=secret,
        )
        send_email.enqueue(email.pk)
    return email


def email_resend(email):
    """Give a failed email, or one stuck in "sending", a new round of attempts. True if queued."""
    with transaction.atomic():
        email = Email.objects.select_for_update().get(pk=email.pk)
        stuck = email.status == EmailStatus.SENDING and email.updated < timezone.now() - STUCK_AFTER
        if email.status != EmailStatus.FAILED and not stuck:
            return False
        email.status = EmailStatus.QUEUED
        email.attempts = 0
        email.save(update_fields=["status", "attempts", "updated"])
        send_email.enqueue(email.pk)
    logger.info("email %s (%s) queued again by staff", email.pk, _label(email))
    return True


# Stored by its path (shop.emails.send_email) with every queued task: keep the name.
@task()
def send_email(email_id):
    """Send one queued email, once. Run by the worker; returns what happened, for its records."""
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.QUEUED:
            # Sent, being sent, or given up: another send could deliver it twice.
            return f"skipped: {email.status if email else 'no such email'}"
        email.status = EmailStatus.SENDING
        email.attempts += 1
        email.save(update_fields=["status", "attempts", "updated"])
    # "sending" is committed before the mail server is called. If this worker dies mid-send the
    # email stays so: it may have gone out, so nothing retries it; staff can resend it.
    try:
        message = EmailMultiAlternatives(email.subject, email.body, to=[email.recipient])
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        message.send()
    except Exception as exc:
        return _failed(email, exc)
    now = timezone.now()
    Email.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT,
        sent_at=now,
        updated=now,
        last_error="",
        **({"body": "", "html_body": ""} if email.secret else {}),
    )
    logger.info("email %s (%s) sent, attempt %d", email.pk, _label(email), email.attempts)
    return "sent"


def _failed(email, exc):
    error = f"{type(exc).__name__}: {exc}"[:2000]  # in full on the row, for staff
    logged = ADDRESS.sub("<address>", error)[:300]
    delays = settings.EMAIL_RETRY_DELAYS
    now = timezone.now()
    retry = email.attempts <= len(delays)
    delay = delays[email.attempts - 1] if retry else None
    with transaction.atomic():
        # Only while still "sending": a staff resend in between owns the email now.
        updated = Email.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
            status=EmailStatus.QUEUED if retry else EmailStatus.FAILED,
            last_error=error,
            updated=now,
        )
        if updated and retry:
            send_email.using(run_after=now + timedelta(seconds=delay)).enqueue(email.pk)
    if retry:
        logger.warning(
            "email %s (%s) attempt %d failed (%s); next try in %d s",
            email.pk, _label(email), email.attempts, logged, delay,
        )  # fmt: skip
        return f"attempt {email.attempts} failed; next try in {delay} s"
    logger.error(
        "email %s (%s) failed after %d attempts (%s); resend it from the back office",
        email.pk, _label(email), email.attempts, logged,
    )  # fmt: skip
    return f"failed after {email.attempts} attempts"


def _label(email):
    return f"{email.kind} {email.reference}".strip()
