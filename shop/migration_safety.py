"""Whether the release still running survives a migration: the check behind `lint_migrations`.

In a rolling deploy `migrate` runs while the previous release still serves requests, so every
migration must leave a schema that the previous release's code can read and write.
django-migration-linter judges the PostgreSQL each migration sends (as `sqlmigrate` prints it)
and flags what that code cannot live with: a dropped or renamed column or table, a NOT NULL
column it does not fill, a changed column type, a new unique constraint.

Every migration `migrate` would apply is judged, Django's and other packages' too: upgrading one
can bring a migration the running release breaks on. Migrations already applied in production
are not judged again: the baseline names the newest of each app then, and it and everything it
depends on are left alone. A reviewed exception names one newer migration and says why it is
safe to ship anyway.
"""

import io
import logging
import tomllib
from collections.abc import Iterable, Mapping
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.exceptions import NodeNotFoundError
from django_migration_linter import MigrationLinter

CONFIG_SECTION = "migration-safety"


class MigrationSafetyError(Exception):
    """The check cannot run as configured; the message says what to change."""


@dataclass(frozen=True)
class SafetyPolicy:
    """What pyproject.toml's [tool.migration-safety] says: the baseline and the exceptions."""

    baseline: tuple[str, ...] = ()
    exceptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LintReport:
    judged: tuple[str, ...]
    unsafe: tuple[str, ...]
    excepted: Mapping[str, str]
    text: str


def read_policy(pyproject: Path) -> SafetyPolicy:
    with pyproject.open("rb") as f:
        section = tomllib.load(f).get("tool", {}).get(CONFIG_SECTION, {})
    return SafetyPolicy(
        baseline=tuple(section.get("baseline", ())),
        exceptions=dict(section.get("exceptions", {})),
    )


def _migration_key(entry: str, where: str) -> tuple[str, str]:
    app_label, _, name = entry.partition(".")
    if not (app_label and name):
        raise MigrationSafetyError(
            f"{where} entry {entry!r} is not app_label.migration_name "
            "(for example orders.0010_order_timeline_and_returns)."
        )
    return app_label, name


def lint_migrations(
    *,
    baseline: Iterable[str],
    exceptions: Mapping[str, str],
    database: str = DEFAULT_DB_ALIAS,
) -> LintReport:
    """Judge every migration newer than the baseline; nothing is applied or written."""
    connection = connections[database]
    if connection.vendor != "postgresql":
        # Production runs PostgreSQL; SQLite's SQL for the same migration (a rebuilt table)
        # would be judged by other rules and say nothing about a deploy.
        raise MigrationSafetyError(
            "The migration check reads the SQL PostgreSQL would run: point DATABASE_URL at a "
            f"PostgreSQL server (any database on it; nothing is written), not {connection.vendor}."
        )
    # The linter reports each `sqlmigrate` call at INFO; its own lines on stdout say enough.
    logging.getLogger("django_migration_linter").setLevel(logging.WARNING)
    try:
        # The linter's first query (which migrations are applied): where a missing server shows.
        linter = MigrationLinter(database=database, no_cache=True)
    except OperationalError as exc:
        raise MigrationSafetyError(
            f"PostgreSQL, which prints each migration's SQL for the check, did not answer: {exc}"
        ) from exc
    loader = linter.migration_loader

    already_applied: set[tuple[str, str]] = set()
    for entry in baseline:
        key = _migration_key(entry, "Baseline")
        try:
            # What the baseline migration depends on, in any app, was applied before it.
            already_applied.update(loader.graph.forwards_plan(key))
        except NodeNotFoundError:
            raise MigrationSafetyError(
                f"The baseline names {entry}, which is not a migration of this project."
            ) from None

    reviewed: dict[tuple[str, str], str] = {}
    for entry, reason in exceptions.items():
        key = _migration_key(entry, "Exception")
        if key not in loader.disk_migrations:
            raise MigrationSafetyError(
                f"The exception for {entry} names no migration of this project."
            )
        if not isinstance(reason, str) or not reason.strip():
            raise MigrationSafetyError(
                f"The exception for {entry} gives no reason: say why the release still "
                "running survives it."
            )
        reviewed[key] = reason.strip()

    judged: list[str] = []
    unsafe: list[str] = []
    excepted: dict[str, str] = {}
    text = io.StringIO()
    with redirect_stdout(text):
        for key in sorted(loader.disk_migrations):
            app_label, name = key
            if key in already_applied:
                continue
            if key in reviewed:
                excepted[f"{app_label}.{name}"] = reviewed[key]
                print(f"({app_label}, {name})... EXCEPTION: {reviewed[key]}")
                continue
            errors_before = linter.nb_erroneous
            linter.lint_migration(loader.disk_migrations[key])
            judged.append(f"{app_label}.{name}")
            if linter.nb_erroneous > errors_before:
                unsafe.append(f"{app_label}.{name}")
    return LintReport(
        judged=tuple(judged), unsafe=tuple(unsafe), excepted=excepted, text=text.getvalue()
    )
