"""Cancel orders that have waited too long for payment, giving their stock back (cron-able).

Open payment sessions are expired first, so a released order can no longer be paid. Two runs at
once are safe: each order is cancelled once.
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
        numbers = unpaid_orders_release(
            older_than=timezone.now() - timedelta(minutes=older_than), dry_run=dry_run
        )
        if verbosity >= 1:
            verb = "Would cancel" if dry_run else "Cancelled"
            self.stdout.write(
                f"{verb} {len(numbers)} unpaid order(s){': ' if numbers else '.'}"
                + ", ".join(numbers)
            )
