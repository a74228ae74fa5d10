"""The workspace façade on both state databases: init, ingest with its run log, recovery, summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from retain.clock import FixedClock
from retain.errors import WorkspaceError
from retain.services import table_summaries
from retain.workspace import Workspace

ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2", "o3"],
        "customer_id": ["c1", "c2", "c1"],
        "ordered_at": ["2025-01-05", "2025-02-06", "not a date"],
        "amount": [10.0, 20.0, 5.0],
        "status": ["completed", "completed", "completed"],
    }
)


def test_ingest_logs_runs_in_the_state_database(tmp_path, database_url):
    clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    ws = Workspace.init(tmp_path / "ws", clock=clock, database_url=database_url)
    assert ws.settings.resolved_database_url == database_url

    result = ws.ingest("orders", ORDERS)
    assert (result.rows_accepted, result.rows_rejected) == (2, 1)
    again = ws.ingest("orders", ORDERS)
    assert again.status == "already_ingested"

    runs = ws.runs(table="orders")
    assert len(runs) == 1
    run = runs[0]
    assert (run.status, run.rows_read, run.rows_accepted, run.rows_rejected) == ("committed", 3, 2, 1)
    assert run.started_at == clock.now() and run.finished_at == clock.now()
    assert run.fingerprint == result.fingerprint

    summary = {s.table: s for s in table_summaries(ws)}
    orders = summary["orders"]
    assert (orders.rows, orders.batches, orders.rejected_rows) == (2, 1, 1)
    assert orders.first == datetime(2025, 1, 5, tzinfo=UTC) and orders.last == datetime(2025, 2, 6, tzinfo=UTC)
    assert summary["events"].rows == 0


def test_open_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="retain init"):
        Workspace.open(tmp_path)


def test_init_is_idempotent_and_keeps_the_settings_file(tmp_path):
    ws = Workspace.init(tmp_path)
    (tmp_path / "retain.toml").write_text("activity_window_days = 30\n")
    again = Workspace.init(tmp_path)
    assert again.settings.activity_window_days == 30 and ws.path == again.path
