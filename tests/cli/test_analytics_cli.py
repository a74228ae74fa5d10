"""The analytics CLI as a user runs it: refresh, metrics, cohorts, segments, customer, report.

The workspace is the tiny hand-built one of tests/marts/marts_builders.py (its marts are worked out by hand in
tests/marts/test_refresh_literal.py), plus two user segments: ``big`` (total_revenue >= 100: c1 with 150) and
``quiet`` (days_since_last_order > 60: c2, 74 days).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marts"))
from marts_builders import build_tiny

from retain.cli.main import app
from retain.services import current_snapshot
from retain.workspace import Workspace

runner = CliRunner(env={"COLUMNS": "250"})  # wide enough that Rich does not wrap the lines we check
SEGMENTS = '[segments]\nbig = "total_revenue >= 100"\nquiet = "days_since_last_order > 60"\n'


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _add_segments(ws_path: Path, text: str = SEGMENTS) -> None:
    config = ws_path / "retain.toml"
    config.write_text(config.read_text().replace("[segments]\n", text))


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ws"
    build_tiny(path)
    _add_segments(path)
    result = _run("refresh", "-w", str(path))
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())  # Rich wraps at the terminal width, which differs between runners
    assert "profiles: 3 written, 0 unchanged, 0 removed" in flat and "segment_membership" in flat
    return path


def _json(*args: str):
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_views_before_any_refresh_say_to_run_refresh(tmp_path):
    Workspace.init(tmp_path / "fresh")
    for command in ("metrics", "cohorts", "segments", "report"):
        result = _run(command, "-w", str(tmp_path / "fresh"))
        assert result.exit_code == 1, command
        assert "run `retain refresh` first" in " ".join(result.output.split()), command


def test_metrics_json_matches_the_marts(ws):
    data = _json("metrics", "-w", str(ws), "--last", "3")
    assert data["freq"] == "month" and data["snapshot"] == current_snapshot(Workspace.open(ws)).id
    periods = data["periods"]
    assert [p["period_start"][:10] for p in periods] == ["2024-02-01", "2024-03-01", "2024-04-01"]
    assert [p["complete"] for p in periods] == [True, True, False]
    feb, mar = periods[0], periods[1]
    assert (feb["retention"]["start_customers"], feb["retention"]["end_customers"]) == (3, 2)
    assert feb["retention"]["involuntary_churn_rate"] == pytest.approx(100 / 3)
    assert mar["retention"]["voluntary_churn_rate"] == 50.0
    assert (feb["mrr"]["starting_mrr"], feb["mrr"]["churned_mrr"], feb["mrr"]["grr"]) == (60.0, 30.0, 50.0)
    assert (mar["commerce"]["revenue"], mar["commerce"]["aov"]) == (50.0, 50.0)
    assert "satisfaction" not in feb  # no feedback in this workspace


def test_metrics_by_quarter_as_csv(ws):
    result = _run("metrics", "-w", str(ws), "--freq", "quarter", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["period_start"][:10] for r in rows] == ["2024-01-01", "2024-04-01"]
    assert rows[0]["commerce.revenue"] == "230.0" and rows[0]["commerce.repeat_purchase_rate"] == "50.0"
    assert rows[0]["retention.start_customers"] == "1" and rows[1]["complete"] == "False"


def test_metrics_table_marks_the_partial_period(ws):
    result = _run("metrics", "-w", str(ws))
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    assert "2024-03 " in flat and "2024-04*" in flat and "partial period" in flat


def test_cohorts_logo_values_and_revenue_shares(ws):
    logo = _json("cohorts", "-w", str(ws))
    assert logo["ages"] == [0, 1, 2, 3]
    assert [(c["cohort"][:7], c["cohort_size"], c["values"]) for c in logo["cohorts"]] == [
        ("2024-01", 2.0, [2.0, 2.0, 2.0, 1.0]),
        ("2024-02", 1.0, [1.0, 0.0, 0.0, None]),
    ]
    revenue = _json("cohorts", "-w", str(ws), "--measure", "revenue", "--shares")
    assert revenue["cohorts"][0]["values"] == [1.0, 1.0, 1.0, 0.3333]  # 10 of 30 MRR left at age 3
    bad = _run("cohorts", "-w", str(ws), "--measure", "seats")
    assert bad.exit_code == 2  # --measure is a choice: Click refuses it and lists the choices
    assert "'seats' is not one of 'logo', 'revenue'" in " ".join(bad.output.replace("│", " ").split())


def test_segments_json(ws):
    data = _json("segments", "-w", str(ws))
    assert data["rfm"] == [
        {"segment": "Need attention", "customers": 1, "revenue": 150.0, "share": 50.0},
        {"segment": "Lost", "customers": 1, "revenue": 80.0, "share": 50.0},
    ]
    assert data["lifecycle"] == [
        {"state": "churned", "customers": 2, "share": 66.67},
        {"state": "active", "customers": 1, "share": 33.33},
    ]
    assert data["user"] == [
        {"segment": "big", "customers": 1, "share": 33.33},
        {"segment": "quiet", "customers": 1, "share": 33.33},
    ]


def test_customer_360_with_live_timeline(ws):
    data = _json("customer", "c1", "-w", str(ws))
    profile = data["profile"]
    assert (profile["total_revenue"], profile["orders"], profile["aov"]) == (150.0, 2, 75.0)
    assert (profile["lifecycle_state"], profile["rfm_segment"], profile["mrr"]) == ("active", "Need attention", 10.0)
    assert data["segments"] == ["big"]
    timeline = data["timeline"]
    assert [row["at"] for row in timeline] == sorted(row["at"] for row in timeline)
    orders = [
        (row["at"][:10], row["amount"]) for row in timeline if row["amount"] is not None and row["kind"] == "order"
    ]
    assert orders == [("2024-01-10", 100.0), ("2024-03-05", 50.0)]
    table = _run("customer", "c2", "-w", str(ws))
    assert table.exit_code == 0 and "Customer c2" in table.output and "quiet" in table.output
    missing = _run("customer", "nobody", "-w", str(ws))
    assert missing.exit_code == 2 and "No customer 'nobody'" in missing.output


def test_profiles_are_in_the_state_database(ws):
    from retain.state.profiles import get_profile

    workspace = Workspace.open(ws)
    with workspace.connect() as connection:
        stored = get_profile(connection, "c2")
    p = stored.profile
    assert (p["lifecycle_state"], p["rfm_segment"], p["days_since_last_order"]) == ("churned", "Lost", 74)
    assert stored.segments == ["quiet"]
    current = current_snapshot(workspace)
    assert current.as_of == datetime(2024, 4, 15, 12, 0, 0, 1, tzinfo=UTC)  # just after the latest fact
    assert stored.snapshot_id == current.id


def test_report_command_writes_one_file(ws, tmp_path):
    out = tmp_path / "out" / "r.html"
    result = _run("report", "-w", str(ws), "--out", str(out))
    assert result.exit_code == 0 and out.is_file()
    html = out.read_text()
    assert html.count("<script src=") == 0 and html.count("plotly.js v") == 1
    assert 'id="chart-kpi-trends"' in html and 'id="chart-mrr-movements"' in html


def test_an_invalid_user_segment_is_reported_and_skipped_and_the_rest_refreshes(tmp_path):
    path = tmp_path / "ws"
    build_tiny(path)
    _add_segments(path, '[segments]\nevil = "total_revenue > 1; DROP TABLE customer_profiles"\nbig = "orders >= 2"\n')
    result = _run("refresh", "-w", str(path))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "segment evil skipped: Segment 'evil': Segment predicate 'total_revenue > 1; DROP TABLE" in said
    snapshot = current_snapshot(Workspace.open(path))
    assert snapshot.manifest["user_segments"] == ["big"]
    assert list(snapshot.manifest["segment_errors"]) == ["evil"]
    assert snapshot.read("segment_membership").to_pylist() == [{"customer_id": "c1", "segment": "big"}]
    assert snapshot.read("profiles").num_rows == 3
