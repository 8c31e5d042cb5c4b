"""PostgreSQL-only schema pieces that leave the SQLite development database migratable."""

from django.db.migrations.operations import AddIndex, RemoveIndex


class AddIndexOnPostgreSQL(AddIndex):
    """AddIndex that is skipped on other databases (for GIN and other PostgreSQL-only indexes).

    The migration state records the index either way, so `makemigrations` stays quiet.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class RemoveIndexOnPostgreSQL(RemoveIndex):
    """RemoveIndex for an index AddIndexOnPostgreSQL made: dropped on PostgreSQL only.

    Needed around changes that make SQLite rebuild a table: SQLite would otherwise try to
    create the PostgreSQL-only index again from the migration state.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
