"""A process killed at any moment of an ingest never leaves a partial batch visible (real SIGKILL, no mocks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from retain.bench.ingest_bench import make_orders_csv
from retain.workspace import Workspace

ROWS = 300_000


def _start(csv, ws) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retain", "ingest", "orders", str(csv), "-w", str(ws)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RETAIN_INGEST__CHUNK_ROWS": "20000"},
    )


def _visible_rows(ws: Workspace) -> int:
    return ws.backend.to_pyarrow(ws.table("orders").count()).as_py()


def _kill_when_writing(csv, ws: Workspace, timeout: float = 120.0) -> bool:
    """Start an ingest and SIGKILL it the moment its hidden temporary batch file exists; False if it never did."""
    proc = _start(csv, ws.path)
    folder = ws.lake.table_dir("orders")
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if folder.is_dir() and any(folder.glob(".tmp-*")):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.001)
    proc.wait()
    return False


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_all_or_nothing(tmp_path):
    """Kill moments are found by watching the ingest, not by sleeping for fractions of a timed run: before it
    writes (killed at once), while the batch is being written (the hidden temporary file exists) and after it
    committed (it ran to the end). Each attempt uses a fresh workspace (a committed file is not ingested again)."""
    csv = make_orders_csv(tmp_path / "orders.csv", ROWS)
    outcomes: list[str] = []

    before = Workspace.init(tmp_path / "before")
    proc = _start(csv, before.path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _visible_rows(before) == 0 and before.lake.batch_files("orders") == []
    outcomes.append("before writing")

    killed_mid_write: Workspace | None = None
    for attempt in range(3):
        ws = Workspace.init(tmp_path / f"mid{attempt}")
        if not _kill_when_writing(csv, ws):
            continue  # finished before the file was seen: a machine this fast needs no second try to show it
        writing = list(ws.lake.table_dir("orders").glob(".tmp-*"))
        rows = _visible_rows(ws)
        assert rows == 0, f"partial batch visible after a kill mid-write: {rows} rows"
        assert writing and ws.lake.batch_files("orders") == []
        outcomes.append("mid-write")
        killed_mid_write = killed_mid_write or ws
    assert killed_mid_write is not None, f"no kill landed while the batch was written: {outcomes}"

    after = Workspace.init(tmp_path / "after")
    assert _start(csv, after.path).wait() == 0
    assert _visible_rows(after) == ROWS and len(after.lake.batch_files("orders")) == 1
    outcomes.append("after commit")

    ws = killed_mid_write
    closed = ws.recover()
    assert [run.status for run in closed] == ["failed"]
    assert not list(ws.lake.table_dir("orders").glob(".tmp-*"))
    result = ws.ingest("orders", csv)
    assert result.status == "committed" and result.rows_accepted == ROWS
    assert _visible_rows(ws) == ROWS
    assert sorted(run.status for run in ws.runs(table="orders")) == ["committed", "failed"]
