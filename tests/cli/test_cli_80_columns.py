"""The commands as a retention manager reads them in an 80-column terminal.

The workspace is the tiny hand-built one of tests/marts/marts_builders.py (its marts are worked out by hand in
tests/marts/test_refresh_literal.py): c1 pays 10 from January, c2 pays 20 from mid-January and cancels in
March, c3 pays 30 from February and fails to pay in February. So February starts with 3 customers and keeps 2
(retention 66.7 %, involuntary churn 33.3 %), March starts with 2 and keeps 1 (retention 50.0 %, voluntary
churn 50.0 %). Every output is checked for lines wider than 80 and for ``…`` (a cut id or number), and the
values are read back cell by cell.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from terminal80 import cells, cut_cells, flat, run, too_long

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marts"))
from marts_builders import build_tiny

SEGMENTS = '[segments]\nbig = "total_revenue >= 100"\nquiet = "days_since_last_order > 60"\n'


def _ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert too_long(result.output) == [], "\n" + "\n".join(too_long(result.output))
    assert cut_cells(result.output) == []
    return result.output


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli80") / "ws"
    build_tiny(path)
    config = path / "retain.toml"
    config.write_text(config.read_text().replace("[segments]\n", SEGMENTS))
    result = run("refresh", "-w", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_metrics_by_month_one_row_per_kpi_with_the_exact_values(ws, console_80):
    out = _ok("metrics", "-w", str(ws))
    table = cells(out)
    assert table[0] == ["KPI", "2024-01", "2024-02", "2024-03", "2024-04*"]
    assert ["customers at start", "1", "3", "2", "1"] in table
    assert ["retention", "100.0%", "66.7%", "50.0%", "100.0%"] in table
    assert ["voluntary", "0.0%", "0.0%", "50.0%", "0.0%"] in table
    assert ["involuntary", "0.0%", "33.3%", "0.0%", "0.0%"] in table
    assert ["MRR at end", "60", "30", "10", "10"] in table
    assert ["churned", "0", "30", "20", "0"] in table
    assert ["GRR", "100.0%", "50.0%", "33.3%", "100.0%"] in table
    assert ["AOV", "100.00", "80.00", "50.00", "—"] in table
    assert "NPS" not in flat(out)  # no feedback: no satisfaction rows
    assert "partial period" in out and "periods fit" not in out  # all four periods fit


@pytest.mark.parametrize(
    ("freq", "header", "row"),
    [
        ("quarter", ["KPI", "2024-Q1", "2024-Q2*"], ["revenue", "230", "0"]),
        ("year", ["KPI", "2024*"], ["repeat purchase rate", "50.0%"]),
    ],
)
def test_metrics_by_quarter_and_year(ws, console_80, freq, header, row):
    table = cells(_ok("metrics", "-w", str(ws), "--freq", freq))
    assert table[0] == header and row in table


def test_metrics_columns_chooses_the_kpis_and_refuses_unknown_ones(ws, console_80):
    chosen = "retention_rate,mrr.churned_mrr,lost_voluntary,churn_rate,voluntary_churn_rate"
    table = cells(_ok("metrics", "-w", str(ws), "--columns", chosen))
    assert table[1:] == [
        ["retention", "100.0%", "66.7%", "50.0%", "100.0%"],
        ["churned MRR", "0", "30", "20", "0"],  # not indented: its parent (MRR at end) is not shown
        ["retention.lost_voluntary", "0", "0", "1", "0"],
        ["churn", "0.0%", "33.3%", "50.0%", "0.0%"],
        ["voluntary", "0.0%", "0.0%", "50.0%", "0.0%"],  # under churn: indented
    ]
    refused = run("metrics", "-w", str(ws), "--columns", "retention_rate,nps_score")
    assert refused.exit_code == 2
    said = flat(refused.output)
    assert "--columns: 'nps_score' is no column" in said and "Valid" in said and "mrr.nrr" in said
    assert too_long(refused.output) == []


def test_cohorts_and_revenue_shares(ws, console_80):
    table = cells(_ok("cohorts", "-w", str(ws)))
    assert table == [
        ["cohort", "size", "+0", "+1", "+2", "+3"],
        ["2024-01", "2", "2", "2", "2", "1"],
        ["2024-02", "1", "1", "0", "0", "—"],
    ]
    shares = cells(_ok("cohorts", "-w", str(ws), "--measure", "revenue", "--shares"))
    assert shares[1] == ["2024-01", "30", "100%", "100%", "100%", "33%"]  # 10 of 30 MRR left at age 3


def test_segments(ws, console_80):
    table = cells(_ok("segments", "-w", str(ws)))
    assert ["Need attention", "1", "150.00", "50.0%"] in table and ["Lost", "1", "80.00", "50.0%"] in table
    assert ["churned", "2", "66.7%"] in table and ["active", "1", "33.3%"] in table
    assert ["big", "1", "33.3%"] in table and ["quiet", "1", "33.3%"] in table


def test_customer_360(ws, console_80):
    out = _ok("customer", "c1", "-w", str(ws))
    table = cells(out)
    assert "Customer c1 (as of 2024-04-15)" in out
    assert ["total_revenue", "150.00"] in table and ["segments", "big"] in table
    assert ["2024-01-10 00:00", "order", "Order o1", "100.00"] in table
    assert ["2024-03-05 00:00", "order", "Order o3", "50.00"] in table


def test_refresh_lists_what_it_computed_and_what_it_skipped_and_why(tmp_path, console_80):
    path = tmp_path / "ws"
    build_tiny(path)
    out = _ok("refresh", "-w", str(path))
    table = cells(out)
    assert ["profiles", "3"] in [row[:2] for row in table]
    # The reason quotes the settings table "[segments]", which Rich markup used to swallow.
    assert ["segment_membership", "no user-defined segments ([segments] in retain.toml)"] in table
    assert "profiles: 3 written, 0 unchanged, 0 removed" in flat(out)


def test_init_ingest_status_and_schema(tmp_path, console_80):
    ws = tmp_path / "a-workspace"
    _ok("init", str(ws))
    orders = tmp_path / "orders-with-a-rather-long-file-name-for-a-narrow-terminal.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,amount,status\n"
        "o1,c1,2025-01-01,10,completed\no2,c1,2025-01-02,oops,completed\n"
    )
    out = _ok("ingest", "orders", str(orders), "-w", str(ws))
    assert "read 2 rows, accepted 1, rejected 1" in flat(out) and ["bad_number", "1"] in cells(out)
    status = _ok("status", "-w", str(ws))
    table = cells(status)
    assert ["orders", "1", "2025-01-01", "2025-01-01", "1", "1"] in table
    sources = "".join(row[-1] for row in table if len(row) == 6 and row[1] in ("orders", ""))
    assert orders.name in sources  # the file name wraps in its column, whole
    schema = run("schema", "orders")
    assert schema.exit_code == 0 and too_long(schema.output) == []
    assert ["status", "string", "yes", "one of completed,", "Order state."] in cells(schema.output)


def test_report_and_synth(ws, tmp_path, console_80):
    out = _ok("report", "-w", str(ws), "--out", str(tmp_path / "r.html"))
    assert "Report written to" in out and (tmp_path / "r.html").is_file()
    out = _ok("synth", str(tmp_path / "synthetic"), "--customers", "30", "--format", "csv")
    assert ["customers", "30"] in cells(out)


@pytest.mark.slow
def test_the_demo_reads_well_in_80_columns(tmp_path, console_80):
    out = _ok("demo", str(tmp_path / "demo"), "--customers", "600")
    assert "Top 10 of" in out and "Why (strongest reason first)" in out
    assert "Done. Explore with retain metrics -w" in flat(out)
    # The playbooks step: a preview of the 13 built-in plays, then the simulation with its holdouts.
    header = next(row for row in cells(out) if row and row[0] == "playbook")
    assert header[-1] == "first message"
    previewed = {row[0] for row in cells(out) if row and row[0] in {"dunning", "wake_up", "birthday", "win_back"}}
    assert previewed == {"dunning", "wake_up", "birthday", "win_back"}
    text = flat(out)
    assert "Simulated 2,000 subscription customers, seed 7: 6 months of history, then 3 with retain live" in text
    holdout_counts = re.findall(r"messages to holdout: (\d+)", text)
    assert len(holdout_counts) >= 5 and set(holdout_counts) == {"0"}  # a holdout customer never gets a message
