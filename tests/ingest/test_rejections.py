"""Every rejection reason, on a tiny file with one good row and one bad row, with the exact reject written out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from retain.ingest import IngestStatus, ingest

GOOD_ORDER = "o1,c1,2025-01-05T10:00:00Z,10.50,completed,2"
GOOD_TICKET = "t1,c1,2025-01-05,2025-01-06,billing,high,false,4"
GOOD_SUB = "s1,c1,pro,49,2025-01-01,,active,,,1"
GOOD_FEEDBACK = "r1,c1,nps,9,,great,2025-01-05"
GOOD_CUSTOMER = "c1,2025-01-01,ann@example.com,Ann,DE,1990-04-23,ads,"
GOOD_EVENT = ",c1,login,2025-01-05T10:00:00,"

HEADERS = {
    "orders": "order_id,customer_id,ordered_at,amount,status,items",
    "tickets": "ticket_id,customer_id,opened_at,resolved_at,category,priority,is_complaint,satisfaction",
    "subscriptions": "subscription_id,customer_id,plan,mrr,started_at,ended_at,status,cancel_reason,churn_type,"
    "billing_period_months",
    "feedback": "response_id,customer_id,survey,score,reason,comment,responded_at",
    "customers": "customer_id,created_at,email,name,country,birth_date,acquisition_channel,attributes",
    "events": "event_id,customer_id,event_type,occurred_at,properties",
}
GOOD = {
    "orders": GOOD_ORDER,
    "tickets": GOOD_TICKET,
    "subscriptions": GOOD_SUB,
    "feedback": GOOD_FEEDBACK,
    "customers": GOOD_CUSTOMER,
    "events": GOOD_EVENT,
}

# (table, bad line, column reported, reason, value reported; a leading - is written as '- for spreadsheets)
CASES = [
    ("orders", "o2,c1,yesterday,10,completed,1", "ordered_at", "bad_timestamp", "yesterday"),
    ("orders", "o2,c1,2025-13-45,10,completed,1", "ordered_at", "bad_timestamp", "2025-13-45"),
    ("orders", "o2,c1,1850-01-01,10,completed,1", "ordered_at", "out_of_range", "1850-01-01"),
    ("orders", "o2,c1,2025-01-05,ten,completed,1", "amount", "bad_number", "ten"),
    ("orders", "o2,c1,2025-01-05,nan,completed,1", "amount", "bad_number", "nan"),
    ("orders", "o2,c1,2025-01-05,-5,completed,1", "amount", "negative_amount", "'-5"),
    ("orders", "o2,c1,2025-01-05,5,shipped,1", "status", "not_allowed", "shipped"),
    ("orders", ",c1,2025-01-05,5,completed,1", "order_id", "missing_value", None),
    ("orders", "o2,  ,2025-01-05,5,completed,1", "customer_id", "missing_value", "  "),
    ("orders", "o2,c1,2025-01-05,5,completed,1.5", "items", "bad_integer", "1.5"),
    ("orders", "o2,c1,2025-01-05,5,completed,-1", "items", "out_of_range", "'-1"),
    ("orders", "o2,c1,2025-01-05,5", "*", "wrong_field_count", "o2,c1,2025-01-05,5"),
    ("tickets", "t2,c1,2025-01-05,2025-01-06,billing,high,maybe,4", "is_complaint", "bad_boolean", "maybe"),
    ("tickets", "t2,c1,2025-01-05,2025-01-06,billing,high,yes,6", "satisfaction", "out_of_range", "6"),
    ("tickets", "t2,c1,2025-01-05,2025-01-04,billing,high,no,4", "resolved_at", "end_before_start", "2025-01-04"),
    (
        "subscriptions",
        "s2,c1,pro,49,2025-02-01,2025-01-01,canceled,price,voluntary,1",
        "ended_at",
        "end_before_start",
        "2025-01-01",
    ),
    ("subscriptions", "s2,c1,pro,49,2025-02-01,,active,bored,,1", "cancel_reason", "not_allowed", "bored"),
    ("subscriptions", "s2,c1,pro,-49,2025-02-01,,active,,,1", "mrr", "out_of_range", "'-49"),
    ("feedback", "r2,c1,onboarding,11,,,2025-01-05", "score", "out_of_range", "11"),
    ("feedback", "r2,c1,csat,0,,,2025-01-05", "score", "score_out_of_scale", "0"),
    ("customers", "c2,2025-01-01,not-an-email,Bob,DE,1990-04-23,ads,", "email", "bad_format", "not-an-email"),
    ("customers", "c2,2025-01-01,bob@example.com,Bob,Germany,1990-04-23,ads,", "country", "bad_format", "Germany"),
    ("customers", "c2,2025-01-01,bob@example.com,Bob,DE,23/04/1990,ads,", "birth_date", "bad_date", "23/04/1990"),
    ("customers", 'c2,2025-01-01,bob@example.com,Bob,DE,1990-04-23,ads,"[1, 2]"', "attributes", "bad_json", "[1, 2]"),
]


def _file(tmp_path: Path, table: str, *lines: str) -> Path:
    path = tmp_path / f"{table}.csv"
    path.write_text("\n".join([HEADERS[table], *lines]) + "\n")
    return path


@pytest.mark.parametrize(("table", "bad", "column", "reason", "value"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_each_reason_rejects_the_row_and_keeps_the_good_one(
    tmp_path, lake, lake_rows, table, bad, column, reason, value
):
    result = ingest(lake, table, _file(tmp_path, table, GOOD[table], bad))

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (2, 1, 1)
    assert result.rejects_by_reason == {reason: 1}
    assert result.status is IngestStatus.COMMITTED
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False)
    assert rejects[["source_row", "column", "reason"]].values.tolist() == [["3", column, reason]]
    assert rejects["value"].iloc[0] == (value or "")
    assert rejects["message"].iloc[0]
    assert lake_rows(table).num_rows == 1


def test_every_bad_column_of_a_row_is_reported_but_the_row_counts_once(tmp_path, lake):
    path = _file(tmp_path, "orders", GOOD_ORDER, "o2,c1,never,minus,lost,x")
    result = ingest(lake, "orders", path)
    rejects = pd.read_csv(result.rejects_path)
    assert result.rows_rejected == 1
    assert sorted(rejects["reason"]) == ["bad_integer", "bad_number", "bad_timestamp", "not_allowed"]
    assert set(rejects["source_row"]) == {3}


def test_nothing_accepted_commits_no_batch_but_keeps_the_rejects(tmp_path, lake):
    path = _file(tmp_path, "orders", "o2,c1,never,1,completed,1", "o3,c1,2025-01-01,-1,completed,1")
    result = ingest(lake, "orders", path)
    assert result.status is IngestStatus.NOTHING_ACCEPTED and not result.ok
    assert result.batch_path is None and lake.batch_files("orders") == []
    assert pd.read_csv(result.rejects_path)["source_row"].tolist() == [2, 3]


def test_refund_may_be_negative_and_values_are_normalised(tmp_path, lake, lake_rows):
    path = _file(
        tmp_path, "orders", "o1, c1 ,2025-01-05 10:00,-10.5,Refunded,", "o2,c2,2025-01-05T11:00:00+02:00,3,COMPLETED,"
    )
    result = ingest(lake, "orders", path)
    assert result.rows_accepted == 2
    rows = lake_rows("orders").to_pandas().set_index("order_id")
    assert rows.loc["o1", "customer_id"] == "c1"
    assert rows.loc["o1", "status"] == "refunded" and rows.loc["o1", "amount"] == -10.5
    assert rows.loc["o2", "ordered_at"] == pd.Timestamp("2025-01-05T09:00:00Z")
    assert rows.loc["o1", "ordered_at"] == pd.Timestamp("2025-01-05T10:00:00Z")


def test_events_without_id_get_a_stable_hash_so_reingest_of_other_file_dedupes(tmp_path, lake, lake_rows):
    first = _file(tmp_path, "events", GOOD_EVENT, ',c1,feature_used,2025-01-05T11:00:00,"{""feature"": ""x""}"')
    ingest(lake, "events", first)
    second = tmp_path / "again.csv"
    second.write_text(first.read_text() + ",c2,login,2025-01-06T10:00:00,\n")
    ingest(lake, "events", second)
    rows = lake_rows("events").to_pandas()
    assert len(rows) == 3
    assert rows["event_id"].str.fullmatch(r"h[0-9a-f]{16}").all()


def test_row_numbers_stay_exact_after_rows_with_a_wrong_field_count_far_into_the_file(tmp_path, lake):
    # Arrow's reader parses ahead of the batch it hands out: a short or long row reported early must not shift
    # the numbers of the rows before it (row 80,000 was once reported as row 109,587).
    lines = [HEADERS["orders"]] + [f"o{row},c1,2025-01-05,10,completed,1" for row in range(2, 100_002)]
    lines[50_000 - 1] = "o50000,c1,2025-01-05,10,completed,1,extra"
    lines[80_000 - 1] = "o80000,c1,2025-01-05,10,shipped,1"
    lines[90_000 - 1] = "o90000,c1,2025-01-05"
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    result = ingest(lake, "orders", path)
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects[["source_row", "column", "reason"]].values.tolist() == [
        ["50000", "*", "wrong_field_count"],
        ["80000", "status", "not_allowed"],
        ["90000", "*", "wrong_field_count"],
    ]
    assert (result.rows_accepted, result.rows_rejected) == (99_997, 3)
