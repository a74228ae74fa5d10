"""A refresh killed at any moment leaves the previous snapshot current and readable (real SIGKILL, no mocks)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from marts_builders import build_synthetic

from retain.marts import marts_store, refresh


def _start(ws) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retain", "refresh", "-w", str(ws)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _assert_readable(snapshot) -> None:
    for name in snapshot.marts:
        assert snapshot.read(name).num_rows == snapshot.manifest["marts"][name]["rows"], name


@pytest.mark.slow
def test_sigkill_at_any_moment_keeps_the_previous_snapshot_current(tmp_path):
    ws = build_synthetic(tmp_path, customers=300)
    first = refresh(ws)  # the snapshot that must survive every kill
    store = marts_store(ws)

    began = time.perf_counter()
    assert _start(ws.path).wait() == 0  # an uninterrupted run, to know how long one takes
    duration = time.perf_counter() - began
    completed = store.current().id
    assert completed != first.snapshot_id
    store.set_current(first.snapshot_id)

    outcomes, half_written = [], []
    for fraction in (0.15, 0.45, 0.75, 0.9, 0.97):
        proc = _start(ws.path)
        time.sleep(duration * fraction)
        proc.kill()
        proc.wait()
        current = store.current()
        assert current is not None, f"no current snapshot after a kill at {fraction:.0%}"
        _assert_readable(current)
        # Every complete folder is a whole snapshot; an unfinished one is hidden under .tmp-*.
        for snapshot in store.snapshots():
            _assert_readable(snapshot)
        outcomes.append(current.id == first.snapshot_id)
        half_written.append(any(p.is_dir() for p in (ws.path / "marts").glob(".tmp-*")))
        if current.id != first.snapshot_id:  # the kill came after the commit: the new snapshot is whole
            store.set_current(first.snapshot_id)
    assert any(outcomes), "no kill landed before the commit; the test did not exercise a mid-refresh kill"
    assert any(half_written), "no kill left a half-written snapshot behind; the kills all missed the writing phase"

    # The next refresh cleans up and publishes normally.
    result = refresh(ws)
    assert store.current().id == result.snapshot_id
    assert not list((ws.path / "marts").glob(".tmp-*"))
    assert len(store.snapshots()) <= ws.settings.keep_snapshots
