"""Refresh of a tiny hand-built workspace: every mart checked against values worked out by hand.

The workspace (conftest.py): c1 pays 10 from Jan 1 and stays; c2 pays 20 from Jan 15 and cancels on Mar 10
(voluntary); c3 pays 30 from Feb 1 and fails payment on Feb 20 (involuntary). Orders: c1 100 on Jan 10 and 50
on Mar 5, c2 80 on Feb 1. The latest fact is a login on 2024-04-15 12:00, so as_of is that instant and April
is a partial month.

Active subscribers at each month start: Jan 1 {c1}; Feb 1 {c1, c2, c3}; Mar 1 {c1, c2}; Apr 1 {c1};
Apr 15 12:00 {c1}.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from marts_builders import build_tiny

from retain.errors import InputError
from retain.services import current_snapshot, refresh
from retain.state.workspace_row import current_snapshot as current_snapshot_row
from retain.workspace import Workspace

LATEST_FACT = datetime(2024, 4, 15, 12, tzinfo=UTC)
AS_OF = LATEST_FACT + timedelta(microseconds=1)  # the default: just after the latest fact, so it counts


def _month(table, freq="month"):
    rows = table.to_pylist()
    return [r for r in rows if r["freq"] == freq]


def test_default_as_of_is_the_latest_fact_and_id_sorts_by_as_of_then_creation(refreshed):
    tiny_workspace, result = refreshed
    assert result.as_of == AS_OF
    assert result.snapshot_id == "20240415T120000Z_20240501T080000000000Z"
    assert result.model == "subscription" and result.engine == "duckdb"
    current = current_snapshot(tiny_workspace)
    assert current.id == result.snapshot_id
    with tiny_workspace.connect() as connection:  # the state database holds which snapshot is current
        assert current_snapshot_row(connection).snapshot_id == result.snapshot_id


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """The tiny workspace refreshed once (default as_of) and its result, shared by the read-only tests."""
    ws = build_tiny(tmp_path_factory.mktemp("tiny") / "ws")
    return ws, refresh(ws)


def test_retention_series_by_month_quarter_year(refreshed):
    snapshot = current_snapshot(refreshed[0])
    months = _month(snapshot.read("retention"))
    got = [
        (
            r["period_start"].date(),
            r["start_customers"],
            r["new_customers"],
            r["end_customers"],
            r["lost_voluntary"],
            r["lost_involuntary"],
            r["complete"],
        )
        for r in months
    ]
    assert got == [
        (date(2024, 1, 1), 1, 2, 3, 0, 0, True),
        (date(2024, 2, 1), 3, 0, 2, 0, 1, True),
        (date(2024, 3, 1), 2, 0, 1, 1, 0, True),
        (date(2024, 4, 1), 1, 0, 1, 0, 0, False),
    ]
    assert months[-1]["period_end"] == AS_OF  # the partial month is cut at as_of
    assert [r["retention_rate"] for r in months] == pytest.approx([100.0, 200 / 3, 50.0, 100.0])
    assert [r["involuntary_churn_rate"] for r in months] == pytest.approx([0.0, 100 / 3, 0.0, 0.0])
    quarters = _month(snapshot.read("retention"), "quarter")
    assert [(r["period_start"].date(), r["start_customers"], r["end_customers"], r["complete"]) for r in quarters] == [
        (date(2024, 1, 1), 1, 1, True),
        (date(2024, 4, 1), 1, 1, False),
    ]
    years = _month(snapshot.read("retention"), "year")
    assert [(r["period_start"].date(), r["period_end"], r["start_customers"]) for r in years] == [
        (date(2024, 1, 1), AS_OF, 1)
    ]


def test_mrr_movements_and_summary(refreshed):
    snapshot = current_snapshot(refreshed[0])
    movements = [
        (r["period_start"].date(), r["customer_id"], r["movement"], r["mrr_change"])
        for r in snapshot.read("mrr_movements").to_pylist()
    ]
    assert movements == [
        (date(2024, 1, 1), "c2", "new", 20.0),
        (date(2024, 1, 1), "c3", "new", 30.0),
        (date(2024, 2, 1), "c3", "churned", -30.0),
        (date(2024, 3, 1), "c2", "churned", -20.0),
    ]
    months = _month(snapshot.read("mrr_summary"))
    assert [(r["starting_mrr"], r["new_mrr"], r["churned_mrr"], r["ending_mrr"]) for r in months] == [
        (10.0, 50.0, 0.0, 60.0),
        (60.0, 0.0, 30.0, 30.0),
        (30.0, 0.0, 20.0, 10.0),
        (10.0, 0.0, 0.0, 10.0),
    ]
    assert [r["grr"] for r in months] == pytest.approx([100.0, 50.0, 100 / 3, 100.0])
    assert [r["arpa"] for r in months] == pytest.approx([20.0, 15.0, 10.0, 10.0])


def test_commerce_and_rfm(refreshed):
    snapshot = current_snapshot(refreshed[0])
    months = _month(snapshot.read("commerce"))
    assert [(r["revenue"], r["orders"], r["aov"]) for r in months[:3]] == [
        (100.0, 1, 100.0),
        (80.0, 1, 80.0),
        (50.0, 1, 50.0),
    ]
    assert months[3]["orders"] == 0 and months[3]["aov"] is None
    quarter = _month(snapshot.read("commerce"), "quarter")[0]
    assert (quarter["revenue"], quarter["customers"], quarter["repeat_purchase_rate"]) == (230.0, 2, 50.0)
    assert quarter["aov"] == 76.67  # 230 / 3 in cents
    rfm = [
        (r["customer_id"], r["recency_days"], r["frequency"], r["monetary"], r["rfm"], r["segment"])
        for r in snapshot.read("rfm").to_pylist()
    ]
    # c1: last order Mar 5, 41.5 days before as_of -> 41; better than c2 on all three -> k = 1 of n = 2 -> 3.
    assert rfm == [("c1", 41, 2, 150.0, "333", "Need attention"), ("c2", 74, 1, 80.0, "111", "Lost")]


def test_manifest_records_rows_engine_and_durations(refreshed):
    result = refreshed[1]
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["as_of"] == "2024-04-15T12:00:00.000001+00:00"
    assert manifest["created_at"] == "2024-05-01T08:00:00+00:00"
    assert manifest["engine"] == "duckdb" and manifest["model"] == "subscription"
    assert manifest["tables"] == ["orders", "subscriptions", "events"]
    assert manifest["marts"]["retention"]["rows"] == 7  # 4 months + 2 quarters + 1 year
    assert manifest["marts"]["mrr_movements"]["rows"] == 4
    assert all(m["seconds"] >= 0 for m in manifest["marts"].values())
    assert set(result.rows) == set(manifest["marts"])


def test_explicit_as_of_on_a_boundary_has_no_partial_period(tiny_workspace):
    result = refresh(tiny_workspace, as_of=date(2024, 3, 1))
    assert result.as_of == datetime(2024, 3, 1, tzinfo=UTC)
    months = _month(current_snapshot(tiny_workspace).read("retention"))
    assert [(r["period_start"].date(), r["end_customers"], r["complete"]) for r in months] == [
        (date(2024, 1, 1), 3, True),
        (date(2024, 2, 1), 2, True),
    ]
    rfm = current_snapshot(tiny_workspace).read("rfm").to_pylist()
    # The Mar 5 order is after as_of: c1 has one order (Jan 10), c2 one (Feb 1, more recent).
    assert [(r["customer_id"], r["frequency"], r["recency_days"]) for r in rfm] == [("c1", 1, 51), ("c2", 1, 29)]


def test_progress_is_reported_per_mart(tiny_workspace):
    calls = []
    result = refresh(tiny_workspace, progress=lambda mart, done, total: calls.append((mart, done, total)))
    total = calls[0][2]
    assert [done for _, done, _ in calls] == [*range(total), total, total]
    assert calls[-2:] == [("profiles", total, total), ("done", total, total)]
    assert {mart for mart, _, _ in calls[:-2]} >= set(result.rows)


def test_empty_workspace_and_as_of_before_the_data_are_clear_errors(tmp_path, tiny_workspace):
    empty = Workspace.init(tmp_path / "empty")
    with pytest.raises(InputError, match=r"holds no data yet.*retain ingest"):
        refresh(empty)
    assert current_snapshot(empty) is None
    with pytest.raises(InputError, match="before the first fact"):
        refresh(tiny_workspace, as_of=date(2023, 1, 1))
    assert not list((tiny_workspace.path / "marts").glob(".tmp-*"))
