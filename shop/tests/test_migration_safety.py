"""Migrations the release still running cannot live with are flagged before a rolling deploy."""

import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.migrations.loader import MigrationLoader

from shop.migration_safety import MigrationSafetyError, lint_migrations, read_policy
from shop.tests.test_settings import ROOT

# The app as the release still running knows it: a parcel with a label, a weight and a note.
INITIAL = """
    operations = [
        migrations.CreateModel(
            name="Parcel",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("label", models.CharField(max_length=40)),
                ("weight", models.IntegerField()),
                ("note", models.TextField(null=True)),
            ],
        ),
    ]
"""


class ThrowawayApp:
    """An app outside the tree whose migrations a test writes; gone with the test's tmp_path."""

    def __init__(self, root):
        self.label = f"rollout_{uuid.uuid4().hex[:8]}"
        self.migrations = root / self.label / "migrations"
        self.migrations.mkdir(parents=True)
        (root / self.label / "__init__.py").write_text("")
        (self.migrations / "__init__.py").write_text("")
        self.names = []
        self.add("0001_initial", INITIAL)

    def add(self, name, operations):
        depends = f'[("{self.label}", "{self.names[-1]}")]' if self.names else "[]"
        (self.migrations / f"{name}.py").write_text(
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = {depends}\n" + textwrap.indent(textwrap.dedent(operations), "    ")
        )
        self.names.append(name)
        return f"{self.label}.{name}"


@pytest.fixture
def app(tmp_path, settings, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    throwaway = ThrowawayApp(tmp_path)
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, throwaway.label]
    yield throwaway
    for module in [m for m in sys.modules if m.split(".")[0] == throwaway.label]:
        del sys.modules[module]


def lint(app, baseline=None, exceptions=None):
    """The check with the store's migrations as baseline and only the throw-away app to judge."""
    store_leaves = [
        f"{label}.{name}"
        for label, name in MigrationLoader(None).graph.leaf_nodes()
        if label != app.label
    ]
    return lint_migrations(baseline=[*store_leaves, *(baseline or [])], exceptions=exceptions or {})


UNSAFE = {
    "drop_column": (
        'migrations.RemoveField(model_name="parcel", name="weight")',
        "DROPPING columns",
    ),
    "rename_column": (
        'migrations.RenameField(model_name="parcel", old_name="label", new_name="name")',
        "RENAMING columns",
    ),
    "drop_table": ('migrations.DeleteModel(name="Parcel")', "DROPPING table"),
    "rename_table": (
        'migrations.RenameModel(old_name="Parcel", new_name="Package")',
        "RENAMING tables",
    ),
    "not_null_with_python_default_only": (
        'migrations.AddField(model_name="parcel", name="fragile",'
        " field=models.BooleanField(default=False))",
        "NOT NULL constraint on columns",
    ),
    "null_column_made_not_null": (
        'migrations.AlterField(model_name="parcel", name="note", field=models.TextField())',
        "NOT NULL constraint on columns",
    ),
    "column_type_changed": (
        'migrations.AlterField(model_name="parcel", name="weight",'
        " field=models.DecimalField(max_digits=8, decimal_places=3))",
        "ALTERING columns",
    ),
    # Even a longer varchar breaks the old release's prepared statements that read it.
    "longer_max_length": (
        'migrations.AlterField(model_name="parcel", name="label",'
        " field=models.CharField(max_length=80))",
        "ALTERING columns",
    ),
    "unique_constraint_on_existing_table": (
        'migrations.AlterField(model_name="parcel", name="label",'
        " field=models.CharField(max_length=40, unique=True))",
        "ADDING unique constraint",
    ),
}

SAFE = {
    "nullable_column": 'migrations.AddField(model_name="parcel", name="remark",'
    " field=models.TextField(null=True))",
    "not_null_column_with_database_default": 'migrations.AddField(model_name="parcel",'
    ' name="fragile", field=models.BooleanField(db_default=False))',
    "new_table_pointing_at_the_old_one": """migrations.CreateModel(
        name="Scan",
        fields=[
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("parcel", models.ForeignKey(on_delete=models.CASCADE, to="{label}.parcel")),
            ("place", models.CharField(max_length=80)),
        ],
    )""",
    "field_left_by_the_code_before_its_column_is_dropped": """migrations.AlterField(
        model_name="parcel", name="weight", field=models.IntegerField(null=True),
    ),
    migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveField(model_name="parcel", name="weight")],
    )""",
    "field_renamed_in_code_only_keeping_its_column": """migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.RenameField(model_name="parcel", old_name="label", new_name="name"),
            migrations.AlterField(
                model_name="parcel",
                name="name",
                field=models.CharField(max_length=40, db_column="label"),
            ),
        ],
    )""",
}


def operations(*ops):
    return "operations = [\n" + "".join(f"    {op},\n" for op in ops) + "]\n"


@pytest.mark.django_db
@pytest.mark.parametrize("change", sorted(UNSAFE))
def test_a_change_the_running_release_cannot_live_with_is_flagged(app, change):
    op, message = UNSAFE[change]
    migration = app.add("0002_change", operations(op))

    report = lint(app)

    assert report.unsafe == (migration,)
    assert message in report.text


@pytest.mark.django_db
@pytest.mark.parametrize("change", sorted(SAFE))
def test_a_change_the_running_release_survives_passes(app, change):
    migration = app.add("0002_change", operations(SAFE[change].format(label=app.label)))

    report = lint(app)

    assert report.judged == (f"{app.label}.0001_initial", migration)
    assert report.unsafe == ()


@pytest.mark.django_db
def test_the_baseline_and_what_it_depends_on_are_not_judged_again(app):
    dropped = app.add("0002_drop_weight", operations(UNSAFE["drop_column"][0]))
    renamed = app.add("0003_rename_label", operations(UNSAFE["rename_column"][0]))

    report = lint(app, baseline=[dropped])

    assert report.judged == (renamed,)
    assert report.unsafe == (renamed,)


@pytest.mark.django_db
def test_a_reviewed_exception_lets_its_migration_through_and_shows_why(app):
    dropped = app.add("0002_drop_weight", operations(UNSAFE["drop_column"][0]))
    renamed = app.add("0003_rename_label", operations(UNSAFE["rename_column"][0]))
    why = "Release 3 of 3: no release since 2027.02 reads weight."

    report = lint(app, exceptions={dropped: f"  {why} "})

    assert report.unsafe == (renamed,)
    assert report.excepted == {dropped: why}
    assert f"EXCEPTION: {why}" in report.text


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_exception_without_a_reason_is_refused(app, reason):
    dropped = app.add("0002_drop_weight", operations(UNSAFE["drop_column"][0]))

    with pytest.raises(MigrationSafetyError, match=f"exception for {dropped} gives no reason"):
        lint(app, exceptions={dropped: reason})


@pytest.mark.django_db
def test_an_exception_for_a_migration_that_does_not_exist_is_refused(app):
    with pytest.raises(MigrationSafetyError, match=r"0002_typo names no migration"):
        lint(app, exceptions={f"{app.label}.0002_typo": "Reviewed."})


@pytest.mark.django_db
def test_a_baseline_naming_no_migration_is_refused(app):
    with pytest.raises(MigrationSafetyError, match=r"baseline names \w+\.0009_gone, which is not"):
        lint(app, baseline=[f"{app.label}.0009_gone"])


@pytest.mark.django_db
@pytest.mark.parametrize("entry", ["0002_drop_weight", ".0002_drop_weight", "orders."])
def test_entries_that_are_not_app_and_migration_are_refused(app, entry):
    with pytest.raises(MigrationSafetyError, match=r"is not app_label\.migration_name"):
        lint(app, baseline=[entry])
    with pytest.raises(MigrationSafetyError, match=r"is not app_label\.migration_name"):
        lint(app, exceptions={entry: "Reviewed."})


@pytest.mark.django_db
def test_the_command_fails_naming_the_unsafe_migration(app):
    # The store's own baseline does not know the throw-away app, so all of it is judged.
    dropped = app.add("0002_drop_weight", operations(UNSAFE["drop_column"][0]))

    with pytest.raises(CommandError, match=f"break the release still running.*: {dropped}\\."):
        call_command("lint_migrations", verbosity=0)


@pytest.mark.django_db
def test_the_stores_migrations_pass_with_the_recorded_baseline(capsys):
    call_command("lint_migrations")

    assert "0 unsafe" in capsys.readouterr().out


def test_the_policy_is_read_from_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.migration-safety]\n"
        'baseline = ["orders.0010_order_timeline_and_returns"]\n'
        "[tool.migration-safety.exceptions]\n"
        '"orders.0011_drop_note" = "Release 3 of 3."\n'
    )

    policy = read_policy(pyproject)

    assert policy.baseline == ("orders.0010_order_timeline_and_returns",)
    assert policy.exceptions == {"orders.0011_drop_note": "Release 3 of 3."}


def lint_command(database_url):
    return subprocess.run(
        [sys.executable, "manage.py", "lint_migrations"],
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": "", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_check_refuses_a_database_other_than_postgresql(tmp_path):
    run = lint_command(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert run.returncode == 1
    assert "point DATABASE_URL at a PostgreSQL server" in run.stderr


def test_the_check_says_in_one_line_when_postgresql_does_not_answer():
    # Nothing listens on port 1: the connection is refused at once.
    run = lint_command("postgres://postgres@127.0.0.1:1/postgres")

    assert run.returncode == 1
    assert run.stderr.startswith("CommandError: PostgreSQL, which prints each migration's SQL")
    assert "Traceback" not in run.stderr
