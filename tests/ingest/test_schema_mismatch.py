"""Wrong or missing columns fail before anything is written, naming the problem and the fix."""

from __future__ import annotations

import pytest

from retain.errors import InputError, SchemaMismatchError
from retain.ingest import IngestOptions, ingest


def test_missing_and_unknown_columns_are_named_and_nothing_is_written(tmp_path, lake):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer,ordered_at,total,status\no1,c1,2025-01-01,1,completed\n")
    with pytest.raises(SchemaMismatchError) as info:
        ingest(lake, "orders", path)
    err = info.value
    assert err.missing == ["customer_id", "amount"]
    assert err.unknown == ["customer", "total"]
    assert err.expected[:3] == ["order_id", "customer_id", "ordered_at"]
    message = str(err)
    for word in ("customer_id", "amount", "customer", "total", "--map", "Nothing was written"):
        assert word in message
    assert not lake.root.exists() or not any(lake.root.rglob("*"))


def test_mapping_fixes_it(tmp_path, lake):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer,ordered_at,total,status\no1,c1,2025-01-01,1,completed\n")
    result = ingest(lake, "orders", path, IngestOptions(mapping={"customer_id": "customer", "amount": "total"}))
    assert result.rows_accepted == 1


def test_header_names_match_loosely(tmp_path, lake):
    path = tmp_path / "o.csv"
    path.write_text("Order ID,Customer-ID,ORDERED_AT,Amount,Status\no1,c1,2025-01-01,1,completed\n")
    assert ingest(lake, "orders", path).rows_accepted == 1


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (IngestOptions(mapping={"nope": "order_id"}), "'nope' is not a column of orders"),
        (IngestOptions(mapping={"amount": "missing"}), "has no column 'missing'"),
        (IngestOptions(preset="shopify"), "Valid presets: online-retail-ii"),
        (IngestOptions(keep_extra=True, mapping={"amount": "total"}), "no free JSON column"),
    ],
)
def test_bad_options_are_explained(tmp_path, lake, options, fragment):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,ordered_at,total,status,extra\no1,c1,2025-01-01,1,completed,x\n")
    with pytest.raises(InputError, match=fragment):
        ingest(lake, "orders", path, options)


def test_unknown_table_lists_valid_tables(tmp_path, lake):
    with pytest.raises(InputError, match="Valid tables: customers, orders, subscriptions, events, tickets, feedback"):
        ingest(lake, "invoices", tmp_path / "x.csv")


def test_not_utf8_is_explained(tmp_path, lake):
    # A header that is not UTF-8 stops the ingest; bad bytes in data rows reject those rows (test_invalid_utf8).
    path = tmp_path / "o.csv"
    path.write_bytes(
        "order_id,customer_id,ordered_at,amount,status,Straße\no1,Müller,2025-01-01,1,completed,x\n".encode("latin-1")
    )
    with pytest.raises(InputError, match="the header line is not UTF-8 text"):
        ingest(lake, "orders", path)
