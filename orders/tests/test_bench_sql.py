"""bench/checkout.sql, the checkout pgbench runs as PostgreSQL's ceiling, keeps up with the
schema: every column the database requires is written by its INSERTs."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "checkout.sql"


def inserted_columns():
    text = SCRIPT.read_text()
    found = {}
    for table, columns in re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", text):
        found[table] = {column.strip() for column in columns.split(",")}
    return found


@pytest.mark.parametrize(
    "label",
    ["orders.Order", "orders.OrderItem", "orders.OrderEvent", "pricing.VoucherRedemption"],
)
def test_the_bench_checkout_writes_every_required_column(label):
    model = apps.get_model(label)
    required = {
        field.column
        for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.db_default is NOT_PROVIDED
    }

    assert required <= inserted_columns()[model._meta.db_table]
