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


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_all_or_nothing(tmp_path):
    csv = make_orders_csv(tmp_path / "orders.csv", ROWS)
    ws = Workspace.init(tmp_path / "ws")

    began = time.perf_counter()
    assert _start(csv, tmp_path / "probe").wait() != 0  # not a workspace: fails fast, measures start-up only
    startup = time.perf_counter() - began
    full = Workspace.init(tmp_path / "timing")
    began = time.perf_counter()
    assert _start(csv, full.path).wait() == 0
    duration = time.perf_counter() - began

    seen = []
    for fraction in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.97):
        proc = _start(csv, ws.path)
        time.sleep(startup * 0.5 + (duration - startup * 0.5) * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rows = ws.backend.to_pyarrow(ws.table("orders").count()).as_py()
        assert rows in (0, ROWS), f"partial batch visible after kill at {fraction:.0%}: {rows} rows"
        assert len(ws.lake.batch_files("orders")) <= 1
        seen.append(rows)
        if rows:
            break
    assert 0 in seen, "no kill landed before the commit; the test did not exercise a mid-ingest kill"

    closed = ws.recover()
    assert all(run.status in ("failed", "committed") for run in closed)
    assert not list(ws.lake.table_dir("orders").glob(".tmp-*"))
    result = ws.ingest("orders", csv)
    assert result.status in ("committed", "already_ingested")
    assert ws.backend.to_pyarrow(ws.table("orders").count()).as_py() == ROWS
    statuses = [run.status for run in ws.runs(table="orders")]
    assert "running" not in statuses and "failed" in statuses
