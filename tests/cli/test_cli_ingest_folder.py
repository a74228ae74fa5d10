"""`retain ingest DIR` on `retain synth` output: every table file in dependency order, counts equal to the files'."""

from __future__ import annotations

import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from retain import services
from retain.cli.main import app
from retain.contract.tables import TableName
from retain.errors import InputError, SchemaMismatchError
from retain.ingest import IngestStatus
from retain.ingest.folder import folder_layout
from retain.synth import generate
from retain.workspace import Workspace

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _file_rows(path) -> int:
    """Rows of a generated file, counted by pyarrow's own readers (not retain's)."""
    return pq.read_metadata(path).num_rows if path.suffix == ".parquet" else pv.read_csv(path).num_rows


@pytest.mark.parametrize(("model", "fmt"), [("subscription", "csv"), ("commerce", "parquet")])
def test_a_synth_folder_is_ingested_table_by_table_with_the_files_row_counts(tmp_path, model, fmt):
    synthetic = tmp_path / "synthetic"
    summary = generate(synthetic, customers=40, model=model, seed=3, fmt=fmt)
    ws = tmp_path / "ws"
    assert _run("init", str(ws)).exit_code == 0

    result = _run("ingest", str(synthetic), "-w", str(ws))

    assert result.exit_code == 0, result.output
    expected = {t.value: _file_rows(synthetic / f"{t}.{fmt}") for t in TableName if (synthetic / f"{t}.{fmt}").exists()}
    assert expected == {t: n for t, n in summary.rows.items() if t in expected}  # the generator's count agrees
    lines = result.output.splitlines()
    body = [line.split("│")[1:-1] for line in lines if line.startswith("│")]
    got = [(cells[0].strip(), cells[1].strip(), cells[2].strip(), cells[3].strip(), cells[5].strip()) for cells in body]
    order = [t for t in ("customers", "orders", "subscriptions", "events", "tickets", "feedback") if t in expected]
    assert got == [(t, f"{t}.{fmt}", f"{expected[t]:,}", f"{expected[t]:,}", "committed") for t in order]
    assert "Skipped, not a table file: ground_truth/, manifest.json" in result.output.replace("\n", " ")
    opened = Workspace.open(ws)
    for table, rows in expected.items():
        assert opened.backend.to_pyarrow(opened.table(table)).num_rows == rows  # synthetic keys are unique
    assert {run.table_name: run.rows_accepted for run in opened.runs()} == expected

    again = _run("ingest", str(synthetic), "-w", str(ws))
    assert again.exit_code == 0 and again.output.count("already ingested") == len(expected)


def test_a_file_that_does_not_fit_stops_the_run_and_says_what_is_in(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "customers.csv").write_text("customer_id,created_at\nc1,2025-01-01\n")
    (folder / "orders.csv").write_text("OrderID,customer_id,ordered_at,amount,status\no1,c1,2025-01-02,5,completed\n")
    (folder / "notes.txt.bak").write_text("not a table")
    ws = Workspace.init(tmp_path / "ws")

    with pytest.raises(SchemaMismatchError) as caught:
        services.ingest_folder(ws, folder)
    message = str(caught.value)
    assert "--map order_id=OrderID" in message
    assert message.endswith(
        f"Already ingested from {folder}: customers; fix the file and run the command again (ingested files are "
        "recognised and skipped)."
    )

    (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount,status\no1,c1,2025-01-02,5,completed\n")
    done = services.ingest_folder(ws, folder)
    assert [(r.table, r.status) for r in done.results] == [
        ("customers", IngestStatus.ALREADY_INGESTED),
        ("orders", IngestStatus.COMMITTED),
    ]
    assert done.skipped == ["notes.txt.bak"]


def test_folder_layouts_that_cannot_be_ingested_are_refused(tmp_path):
    two = tmp_path / "two"
    two.mkdir()
    (two / "orders.csv").write_text("x\n")
    (two / "Orders.parquet").write_text("x")
    with pytest.raises(InputError, match=r"2 files for table orders \(Orders\.parquet, orders\.csv\)"):
        folder_layout(two)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("x")
    with pytest.raises(InputError, match="no table file found; expected files named after the tables"):
        folder_layout(empty)


def test_per_table_options_are_refused_for_a_folder_and_a_table_needs_its_file(tmp_path):
    ws = tmp_path / "ws"
    _run("init", str(ws))
    folder = tmp_path / "f"
    folder.mkdir()
    result = _run("ingest", str(folder), "--map", "a=b", "--preset", "online-retail-ii", "-w", str(ws))
    assert result.exit_code == 2
    assert "--map and --preset apply to one table's file, not to a folder" in result.output.replace("\n", " ")
    result = _run("ingest", "orders", "-w", str(ws))
    assert result.exit_code == 2 and "Give the FILE to ingest into orders" in result.output
