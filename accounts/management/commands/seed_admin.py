"""Create or update the store's first superuser from the environment or flags.

Safe to run on every deploy: when the account already matches, nothing is written. The password
is never printed; the output says only where it came from.
"""

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import superuser_seed


class Command(BaseCommand):
    help = (
        "Create or update the first superuser from DJANGO_SUPERUSER_EMAIL and "
        "DJANGO_SUPERUSER_PASSWORD (or --email/--password). Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", help="Defaults to $DJANGO_SUPERUSER_EMAIL.")
        parser.add_argument(
            "--password",
            help="Defaults to $DJANGO_SUPERUSER_PASSWORD. Prefer the variable: flags show in ps.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would change, write nothing."
        )

    def handle(self, *args, email=None, password=None, dry_run=False, **options):
        email_source = "--email" if email else "DJANGO_SUPERUSER_EMAIL"
        email = email or os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        password_source = "--password" if password else "DJANGO_SUPERUSER_PASSWORD"
        password = password or os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if not email:
            raise CommandError("No email: set DJANGO_SUPERUSER_EMAIL or pass --email.")
        try:
            result = superuser_seed(email=email, password=password or None, dry_run=dry_run)
        except ValueError as exc:
            raise CommandError(f"{exc} Set DJANGO_SUPERUSER_PASSWORD or pass --password.") from exc
        except ValidationError as exc:
            raise CommandError("The password was refused: " + " ".join(exc.messages)) from exc

        verb = "Would have {}" if dry_run else "{}"
        who = f"superuser {result.user.email} (email from {email_source})"
        if result.created:
            message = f"{verb.format('Created')} {who}; password from {password_source}."
            self.stdout.write(self.style.SUCCESS(message))
        elif result.changed:
            detail = ", ".join(result.changed)
            if "password" in result.changed:
                detail += f" (password from {password_source})"
            self.stdout.write(self.style.SUCCESS(f"{verb.format('Updated')} {who}: {detail}."))
        elif options["verbosity"] >= 1:
            self.stdout.write(f"Superuser {result.user.email} is already up to date.")
