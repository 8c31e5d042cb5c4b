"""Fails when a migration newer than the baseline would break the release still running.

Run by `make migrations-lint` in CI. It needs requirements-dev.txt (the production image does
not ship the linter) and a PostgreSQL server to print the SQL with; it applies nothing. The
baseline and the reviewed exceptions are in pyproject.toml under [tool.migration-safety].
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop.migration_safety import MigrationSafetyError, lint_migrations, read_policy


class Command(BaseCommand):
    help = (
        "Check that every migration newer than the baseline in pyproject.toml leaves a schema "
        "the release still running can use (rolling deploys). Applies nothing."
    )

    def handle(self, *args, **options):
        policy = read_policy(settings.BASE_DIR / "pyproject.toml")
        try:
            report = lint_migrations(baseline=policy.baseline, exceptions=policy.exceptions)
        except MigrationSafetyError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            self.stdout.write(report.text, ending="")
            self.stdout.write(
                f"{len(report.judged)} migration(s) newer than the baseline judged, "
                f"{len(report.unsafe)} unsafe, {len(report.excepted)} reviewed exception(s)."
            )
        if report.unsafe:
            raise CommandError(
                "These migrations would break the release still running during a rolling "
                f"deploy: {', '.join(report.unsafe)}. Split the change over releases (README, "
                "Deploying), or, once reviewed, add an exception with its reason under "
                "[tool.migration-safety.exceptions] in pyproject.toml."
            )
