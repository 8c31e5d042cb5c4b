"""Export every product variant as CSV, in the format import_products reads."""

import os
import tempfile

from django.core.management.base import BaseCommand, CommandError

from catalog.csv_io import TextProgress, export_lines


class Command(BaseCommand):
    help = (
        "Write every product variant, with its product's fields, as CSV: the file "
        "import_products reads (importing it unchanged changes nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", nargs="?", default="-", help="Where to write (default: standard output)."
        )

    def handle(self, *args, file, verbosity, **options):
        progress = TextProgress(self.stderr, enabled=verbosity >= 1)
        if file == "-":
            for line in export_lines(progress):
                self.stdout.write(line, ending="")
            self.stdout.flush()
            return
        # Written beside the target and renamed over it at the end: a failed export leaves no
        # half-written file behind, nor replaces a good one with it.
        folder = os.path.dirname(os.path.abspath(file))
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".export-", suffix=".csv")
        except OSError as exc:
            raise CommandError(f"Cannot write to {folder}: {exc.strerror or exc}.") from exc
        rows = -1  # the header is not a variant
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; as any new file
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                for line in export_lines(progress):
                    out.write(line)
                    rows += 1
            os.replace(temporary, file)
        except OSError as exc:
            os.unlink(temporary)
            raise CommandError(f"Cannot write {file}: {exc.strerror or exc}.") from exc
        except BaseException:
            os.unlink(temporary)
            raise
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"{rows:,} variants written to {file}."))
