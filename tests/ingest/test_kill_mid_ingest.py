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


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_all_or_nothing(tmp_path):
    csv = make_orders_csv(tmp_path / "orders.csv", ROWS)
    timing = Workspace.init(tmp_path / "timing")
    began = time.perf_counter()
    assert _start(csv, timing.path).wait() == 0
    duration = time.perf_counter() - began

    # Search for kill moments on both sides of the commit, and one while the batch is being written (a hidden
    # temporary file exists): each attempt uses a fresh workspace, since a committed file is not ingested again.
    low, high, delay = 0.0, duration * 1.5, duration * 0.6
    outcomes: list[str] = []
    killed_mid_write: Workspace | None = None
    for attempt in range(14):
        ws = Workspace.init(tmp_path / f"ws{attempt}")
        proc = _start(csv, ws.path)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        writing = list(ws.lake.table_dir("orders").glob(".tmp-*"))
        rows = _visible_rows(ws)
        assert rows in (0, ROWS), f"partial batch visible after a kill at {delay:.2f} s: {rows} rows"
        assert len(ws.lake.batch_files("orders")) == (1 if rows else 0)
        if writing:
            outcomes.append("mid-write")
            killed_mid_write = killed_mid_write or ws
            low = delay  # also probe later moments
        elif rows:
            outcomes.append("after commit")
            high = delay
        else:
            outcomes.append("before writing")
            low = delay
        if killed_mid_write is not None and "after commit" in outcomes and outcomes.count("mid-write") >= 2:
            break
        delay = (low + high) / 2
    assert killed_mid_write is not None, f"no kill landed while the batch was written: {outcomes}"

    ws = killed_mid_write
    closed = ws.recover()
    assert [run.status for run in closed] == ["failed"]
    assert not list(ws.lake.table_dir("orders").glob(".tmp-*"))
    result = ws.ingest("orders", csv)
    assert result.status == "committed" and result.rows_accepted == ROWS
    assert _visible_rows(ws) == ROWS
    assert sorted(run.status for run in ws.runs(table="orders")) == ["committed", "failed"]
