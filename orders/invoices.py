"""Invoice numbers: sequential per calendar year, with no gaps, given when an order is paid."""

from django.db import connection
from django.utils import timezone

from orders.models import InvoiceSequence


def invoice_number_next(when) -> str:
    """The next invoice number of the year `when` falls in (the store's time zone), such as
    2026-000042.

    Counted in one statement that inserts the year's row or adds one to it, and returns the
    count: the row stays locked until the caller's transaction ends, so numbers are given one
    paid order at a time, and a transaction that rolls back gives its number back with it (the
    next order gets it): no gaps, no number twice. Call it inside the transaction that marks
    the order paid.
    """
    year = timezone.localtime(when).year
    meta = InvoiceSequence._meta
    quote = connection.ops.quote_name
    table, year_column, last = (
        quote(name) for name in (meta.db_table, meta.pk.column, meta.get_field("last").column)
    )
    with connection.cursor() as cursor:
        # Only quoted names and placeholders are formatted into the statement.
        cursor.execute(
            f"INSERT INTO {table} ({year_column}, {last}) VALUES (%s, 1) "  # noqa: S608
            f"ON CONFLICT ({year_column}) DO UPDATE SET {last} = {table}.{last} + 1 "
            f"RETURNING {last}",
            [year],
        )
        number = cursor.fetchone()[0]
    return f"{year}-{number:06d}"
