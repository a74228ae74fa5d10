"""A rejected row is reported with every reason found in it, and counted once under each of its reasons."""

from __future__ import annotations

import pandas as pd

from retain.ingest import ingest


def test_every_reason_of_a_row_is_in_the_rejects_file_and_in_the_counts(tmp_path, lake):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,ordered_at,amount,status,items\n"
        "o1,c1,2025-01-01,10,completed,1\n"
        "o2,c1,never,ten,shipped,1\n"  # three problems
        "o3,,2025-01-01,ten,completed,x\n"  # three problems, one of them again bad_number
        "o4,c1,2025-01-01,ten,completed,1\n"  # one problem
        "o5,c1,2025-01-01\n"  # cannot be read as a record at all
    )
    result = ingest(lake, "orders", path)

    assert (result.rows_accepted, result.rows_rejected) == (1, 4)
    assert result.rejects_by_reason == {
        "bad_integer": 1,
        "bad_number": 3,  # rows 3, 4 and 5
        "bad_timestamp": 1,
        "missing_value": 1,
        "not_allowed": 1,
        "wrong_field_count": 1,
    }
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False)
    assert list(rejects[["source_row", "column", "reason"]].itertuples(index=False, name=None)) == [
        ("3", "ordered_at", "bad_timestamp"),
        ("3", "amount", "bad_number"),
        ("3", "status", "not_allowed"),
        ("4", "customer_id", "missing_value"),
        ("4", "amount", "bad_number"),
        ("4", "items", "bad_integer"),
        ("5", "amount", "bad_number"),
        ("6", "*", "wrong_field_count"),
    ]


def test_two_columns_with_the_same_reason_count_the_row_once(tmp_path, lake):
    path = tmp_path / "tickets.csv"
    path.write_text(
        "ticket_id,customer_id,opened_at,resolved_at,is_complaint\n"
        "t1,c1,someday,later,false\n"
        "t2,c1,2025-01-01,2025-01-02,false\n"
    )
    result = ingest(lake, "tickets", path)
    assert result.rows_rejected == 1
    assert result.rejects_by_reason == {"bad_timestamp": 1}
    assert pd.read_csv(result.rejects_path)["column"].tolist() == ["opened_at", "resolved_at"]
