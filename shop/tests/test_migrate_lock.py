"""`migrate` from several hosts at once (the release step): one runs, the others wait for it."""

import os
import subprocess
import sys

import environ
import psycopg
import pytest
from django.core.management import get_commands
from django.db.migrations.loader import MigrationLoader

from shop.tests.test_settings import ROOT


def migrate(database_url, **env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": "", "DATABASE_URL": database_url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def fresh_database():
    """The URL of a new, empty PostgreSQL database next to the suite's, dropped afterwards."""
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    name = f"{config['NAME']}_migrate_race"
    server = {
        "host": config["HOST"],
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"],
    }
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}", {**server, "dbname": name}
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_store_overrides_djangos_migrate():
    assert get_commands()["migrate"] == "shop"


def test_two_migrates_at_once_both_succeed_and_record_each_migration_once(fresh_database):
    url, connect = fresh_database

    runs = [migrate(url), migrate(url)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    with psycopg.connect(**connect) as db:
        recorded = db.execute("SELECT app, name FROM django_migrations").fetchall()
    assert len(recorded) == len(set(recorded))
    assert set(recorded) == set(MigrationLoader(None).disk_migrations)


def test_migrate_still_runs_on_sqlite(tmp_path):
    run = migrate(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    output = run.communicate(timeout=120)[0]
    assert run.returncode == 0, output


def test_migrate_refuses_to_run_through_pgbouncer(fresh_database):
    url, connect = fresh_database

    run = migrate(url, PGBOUNCER="true")
    output = run.communicate(timeout=120)[0]

    assert run.returncode != 0
    assert "Run migrate against PostgreSQL itself, not through PgBouncer" in output
    with psycopg.connect(**connect) as db:
        tables = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone()[0] == 0
