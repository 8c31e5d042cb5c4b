"""Import products and their variants from a CSV file (the format export_products writes)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from catalog.csv_io import MAX_COMMAND_BYTES, TextProgress, import_products, size_problem

SHOWN_PROBLEMS = 100


class Command(BaseCommand):
    help = (
        "Create and update products and variants from a CSV file, all or nothing: every row is "
        "checked first, and any problem (listed with its line number) means nothing is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file ('-' reads standard input).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and say what would change, without saving anything.",
        )

    def handle(self, *args, file, dry_run, verbosity, **options):
        data = self.read(file)
        progress = TextProgress(self.stderr, enabled=verbosity >= 1)
        result = import_products(data, dry_run=dry_run, progress=progress)
        if not result.ok:
            for problem in result.problems[:SHOWN_PROBLEMS]:
                self.stderr.write(str(problem))
            more = len(result.problems) - SHOWN_PROBLEMS
            if more > 0:
                self.stderr.write(f"... and {more:,} more.")
            raise CommandError(
                f"{len(result.problems):,} problem(s) in {file}: nothing was imported."
            )
        if verbosity >= 1:
            for warning in result.warnings[:SHOWN_PROBLEMS]:
                self.stderr.write(f"Warning: {warning}", style_func=self.style.WARNING)
        if verbosity >= 2:
            for change in result.changes:
                self.stdout.write(str(change))
        if dry_run and result.changed_anything:
            verdict = "Dry run, nothing saved. The file is valid and would change"
        elif dry_run:
            verdict = "Dry run. The file is valid and changes nothing"
        elif result.applied:
            verdict = "Imported"
        else:
            verdict = "Nothing to change"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verdict}: {result.rows:,} rows; {result.summary()} ({result.seconds:.2f}s)."
            )
        )

    def read(self, file):
        try:
            if file == "-":
                data = sys.stdin.buffer.read(MAX_COMMAND_BYTES + 1)
            else:
                with open(file, "rb") as handle:
                    data = handle.read(MAX_COMMAND_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        problem = size_problem(len(data), MAX_COMMAND_BYTES, read_up_to_limit=True)
        if problem:
            raise CommandError(f"{file}: {problem} Nothing was imported.")
        return data
