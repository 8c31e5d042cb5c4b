"""Django's migrate, run by one process at a time per database.

Several hosts may run the release step at once. Two migrates on one PostgreSQL database would
both apply the same migrations: one fails half-way, and django_migrations can get the same
migration twice. A session-level advisory lock, held from before the migration plan is read
until the end, makes a second run wait for the first and then find nothing left to do.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

# Any fixed number will do: every migrate of this project takes the same one. Advisory locks
# belong to one database, so migrating another database on the same server does not wait.
LOCK_KEY = 0x73686F702D6D6967  # "shop-mig"


class Command(MigrateCommand):
    def handle(self, *args, **options):
        if settings.PGBOUNCER:
            # In transaction pooling the lock and its release could land on two server
            # connections, and the lock would stay held on a pooled one.
            raise CommandError(
                "Run migrate against PostgreSQL itself, not through PgBouncer: set DATABASE_URL "
                "to the database server and leave PGBOUNCER unset for the release step."
            )
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            # SQLite takes one writer at a time already; other databases are not used here.
            return super().handle(*args, **options)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                if options["verbosity"] >= 1:
                    self.stdout.write("Another migrate is running on this database: waiting.")
                cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            return super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
