"""Ask the payment service about pending orders' sessions and apply what it says (cron-able).

A lost or delayed webhook then never leaves a paid order pending. Also retries automatic refunds
that the payment service did not take the first time, and refunds (payments.models.Refund) that
were never sent or that it declined, under their own idempotency key. A session or refund that
fails (the payment service does not answer, or anything else goes wrong with it) is logged and
left for the next run; the others are handled, and the command exits with status 1 so that cron
reports it.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.services import payments_reconcile


class Command(BaseCommand):
    help = "Apply the payment service's view of sessions older than --older-than minutes."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=5, metavar="MINUTES")

    def handle(self, *args, older_than, verbosity, **options):
        if older_than < 0:
            raise CommandError("--older-than cannot be negative.")
        sweep = payments_reconcile(older_than=timezone.now() - timedelta(minutes=older_than))
        for session_id, outcome in sweep.done:
            self.stdout.write(f"{session_id}: {outcome}")
        if verbosity >= 1:
            self.stdout.write(f"{len(sweep.done)} change(s).")
        for what, reason in sweep.failed:
            self.stderr.write(f"Failed {what}: {reason}")
        if sweep.failed:
            raise CommandError(
                f"{len(sweep.failed)} payment(s) could not be reconciled; the next run tries again."
            )
