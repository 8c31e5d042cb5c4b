"""Make the renditions pictures are missing (after `migrate`, or if the worker was not running).

Idempotent: a picture whose renditions were made from its file, as made today, is left alone, so
a second run makes nothing. Pictures sharing a file get its renditions made once.
"""

from django.core.management.base import BaseCommand, CommandError

from catalog.images import RenditionError, renditions_current, source_renditions_ensure
from catalog.models import ProductImage


class Command(BaseCommand):
    help = "Make missing picture renditions (WebP and the original's format, at 400/800/1600 px)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, write nothing.")
        parser.add_argument(
            "--force", action="store_true", help="Make them again, even where they are current."
        )

    def handle(self, *args, dry_run, force, verbosity, **options):
        pending = {}  # file name: number of pictures
        for name, renditions in ProductImage.objects.values_list("image", "renditions").iterator():
            if force or not renditions_current(renditions, name):
                pending[name] = pending.get(name, 0) + 1
        if dry_run:
            if verbosity >= 2:
                for name, count in sorted(pending.items()):
                    self.stdout.write(f"  would make: {name} ({count} picture(s))")
            if verbosity >= 1:
                self.stdout.write(
                    f"Would make renditions for {sum(pending.values())} picture(s) "
                    f"({len(pending)} file(s))."
                )
            return

        made, copied, failed = 0, 0, []
        for name, count in sorted(pending.items()):
            try:
                outcome = source_renditions_ensure(name, force=force)
            except RenditionError as exc:
                failed.append(name)
                self.stderr.write(f"Failed {exc}")
                continue
            made += count if outcome == "made" else 0
            copied += count if outcome == "copied" else 0
            if verbosity >= 2:
                self.stdout.write(f"  {outcome}: {name} ({count} picture(s))")
        if verbosity >= 1:
            self.stdout.write(
                f"Made renditions for {made} picture(s), copied them to {copied}; "
                f"{len(failed)} file(s) failed."
            )
        if failed:
            raise CommandError(
                f"{len(failed)} file(s) could not be read; their pages show the original. Replace "
                "the picture in the back office, or fix the file and run this again."
            )
