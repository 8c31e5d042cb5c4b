"""Delete guest carts nobody has touched for a while (cron-able).

Signed-in shoppers' carts are kept whatever their age: they are part of the account.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cart.services import carts_delete_abandoned


class Command(BaseCommand):
    help = "Delete guest carts not changed for --days days (default 30)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, days, dry_run, verbosity, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        count = carts_delete_abandoned(
            older_than=timezone.now() - timedelta(days=days), dry_run=dry_run
        )
        if verbosity >= 1:
            verb = "Would delete" if dry_run else "Deleted"
            self.stdout.write(f"{verb} {count} guest cart(s) untouched for {days} days.")
