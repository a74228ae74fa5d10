"""The CLI as a user runs it: init, schema, ingest (exit codes and what it prints), status."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from _ci import shared_path
from retain.cli.main import app
from retain.workspace import Workspace

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_init_ingest_status_round_trip(tmp_path):
    ws = tmp_path / "ws"
    assert _run("init", str(ws)).exit_code == 0
    assert (ws / "retain.toml").is_file() and (ws / "state.db").is_file() and (ws / "data").is_dir()

    good = tmp_path / "orders.csv"
    good.write_text(
        "order_id,customer_id,ordered_at,amount,status\n"
        "o1,c1,2025-01-01,10,completed\no2,c1,2025-01-02,oops,completed\n"
    )
    result = _run("ingest", "orders", str(good), "-w", str(ws))
    assert result.exit_code == 0
    assert "read 2 rows, accepted 1, rejected 1" in result.output
    assert "bad_number" in result.output and "_rejects/orders/" in result.output.replace("\n", "")

    again = _run("ingest", "orders", str(good), "-w", str(ws))
    assert again.exit_code == 0 and "already ingested" in again.output

    status = _run("status", "-w", str(ws))
    assert status.exit_code == 0
    assert "orders" in status.output and "2025-01-01" in status.output


def test_nothing_accepted_exits_1_and_schema_mismatch_exits_2(tmp_path):
    ws = tmp_path / "ws"
    _run("init", str(ws))
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,customer_id,ordered_at,amount,status\no1,c1,never,10,completed\n")
    result = _run("ingest", "orders", str(bad), "-w", str(ws))
    assert result.exit_code == 1 and "accepted 0, rejected 1" in result.output

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,when\n1,2025-01-01\n")
    result = _run("ingest", "orders", str(wrong), "-w", str(ws))
    assert result.exit_code == 2
    assert "missing required column(s): order_id, customer_id, ordered_at, amount, status" in result.output.replace(
        "\n", " "
    ).replace("  ", " ")


def test_not_a_workspace_says_how_to_make_one(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("order_id\n")
    result = _run("ingest", "orders", str(csv), "-w", str(tmp_path / "none"))
    assert result.exit_code == 1 and "retain init" in result.output


def test_schema_json_lists_the_six_tables_with_keys():
    result = _run("schema", "--format", "json")
    data = json.loads(result.output)
    assert [t["table"] for t in data] == ["customers", "orders", "subscriptions", "events", "tickets", "feedback"]
    assert data[2]["key"] == ["subscription_id", "started_at"]
    orders = {c["name"]: c for c in data[1]["columns"]}
    assert orders["status"]["rules"] == ["not empty", "one of completed, refunded, canceled"]


def test_preset_ingest_counts_lines_and_orders(tmp_path):
    path = shared_path("online-retail-ii-subset", "online_retail_II_subset_Year_2009-2010.csv")  # fails under CI
    ws = tmp_path / "ws"
    _run("init", str(ws))
    result = _run("ingest", "orders", str(path), "--preset", "online-retail-ii", "-w", str(ws))
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    assert "read 14,269 lines, accepted 749 orders, rejected 199 lines (preset online-retail-ii)" in flat
    assert "duplicate_line │ 30" in flat and "missing_customer │ 169" in flat


def test_reading_options_from_the_command_line(tmp_path):
    ws = tmp_path / "ws"
    _run("init", str(ws))
    export = tmp_path / "export.csv"
    export.write_text(
        "Bestellungen\n"
        "order_id;customer_id;ordered_at;amount;status\n"
        "o1;c1;23.04.2025 10:30;1.234,50;completed\n"
        "o2;c1;2025-04-23;12.50;shipped\n"  # three problems: ISO time, point decimal, unknown status
    )
    args = ["--skip-rows", "1", "--decimal", ",", "--date-format", "%d.%m.%Y %H:%M", "--timezone", "Europe/Berlin"]
    result = _run("ingest", "orders", str(export), *args, "-w", str(ws))

    assert result.exit_code == 0, result.output
    assert "read 2 rows, accepted 1, rejected 1" in result.output
    for reason in ("bad_timestamp", "bad_number", "not_allowed"):
        assert reason in result.output
    assert "A row with several problems counts under each of its reasons." in result.output
    opened = Workspace.open(ws)
    orders = opened.backend.to_pyarrow(opened.table("orders")).to_pydict()
    assert orders["amount"] == [1234.5]
    assert orders["ordered_at"] == [datetime(2025, 4, 23, 8, 30, tzinfo=UTC)]  # CEST, +02:00
    again = _run("ingest", "orders", str(export), *args, "-w", str(ws))
    assert "already ingested" in again.output
    bad = _run("ingest", "orders", str(export), "--timezone", "Mars/Olympus", "-w", str(ws))
    assert bad.exit_code == 2 and "not a known time zone" in bad.output
