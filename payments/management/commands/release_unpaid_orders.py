"""Cancel orders that have waited too long for payment, giving their stock back (cron-able).

Open payment sessions are expired first, so a released order can no longer be paid. Two runs at
once are safe: each order is cancelled once. An order that cannot be released now (the payment
service does not answer, or anything else goes wrong with it) is logged and left for the next
run; the others are released, and the command exits with status 1 so that cron reports it.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.services import unpaid_orders_release


class Command(BaseCommand):
    help = "Cancel orders awaiting payment for more than --older-than minutes."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="MINUTES")
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing.")

    def handle(self, *args, older_than, dry_run, verbosity, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 minute.")
        sweep = unpaid_orders_release(
            older_than=timezone.now() - timedelta(minutes=older_than), dry_run=dry_run
        )
        numbers = [number for number, _ in sweep.done]
        if verbosity >= 1:
            verb = "Would cancel" if dry_run else "Cancelled"
            self.stdout.write(
                f"{verb} {len(numbers)} unpaid order(s){': ' if numbers else '.'}"
                + ", ".join(numbers)
            )
            for number, reason in sweep.skipped:
                self.stdout.write(f"Skipped {number}: {reason}")
        for number, reason in sweep.failed:
            self.stderr.write(f"Not released {number}: {reason}")
        if sweep.failed:
            raise CommandError(
                f"{len(sweep.failed)} order(s) could not be released; the next run tries again."
            )
