"""Statements the ORM compiles once per database engine and runs again with new values.

For statements sent on every page or checkout, where the ORM took longer to build and compile
them than PostgreSQL took to run them. A statement is written as a queryset with a stand-in
where each value goes; only its SQL is kept, never rows, so a change shows at once.
"""

import functools

from django.db import connection


def compiled_once(*stand_ins):
    """Decorate a function returning the queryset, built with `stand_ins` where its values go.
    Calling the result with the values gives (sql, params) for the current database."""

    def decorator(build):
        @functools.cache
        def compile_for(vendor):
            return build().query.sql_with_params()

        @functools.wraps(build)
        def statement(*values):
            sql, params = compile_for(connection.vendor)
            given = list(zip(stand_ins, values, strict=True))
            return sql, [next((v for s, v in given if param == s), param) for param in params]

        return statement

    return decorator
