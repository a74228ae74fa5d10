"""Real processes racing on one workspace: two trainings saving at once, an ingest committing mid-refresh."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pandas as pd
import pytest
from scoring_builders import build_workspace

from retain.errors import NotFittedError
from retain.services import churn_registry, current_snapshot, refresh, train
from retain.workspace import Workspace


def _retain(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retain", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_two_trainings_at_once_leave_a_current_model_that_always_loads(tmp_path):
    ws = build_workspace(tmp_path, customers=600)
    train(ws)  # v1: CURRENT exists from the start, so every load below must succeed
    registry = churn_registry(Workspace.open(ws.path))
    procs = [_retain("model", "train", "-w", str(ws.path)) for _ in range(2)]
    loads, seen = 0, set()
    while any(p.poll() is None for p in procs):
        model, metadata = registry.load()  # raises on a missing CURRENT target or a checksum mismatch
        assert model.estimators_ and metadata.artifact.sha256  # fitted (a linear choice has no boosters)
        seen.add(metadata.version)
        loads += 1
    for proc in procs:
        assert proc.wait() == 0, proc.stderr.read()
    assert loads > 10
    assert registry.versions() == ["v1", "v2", "v3"]  # each training got its own version
    current = registry.current()
    assert current in ("v2", "v3")
    model, metadata = registry.load()
    assert metadata.version == current and seen <= {"v1", "v2", "v3"}
    for version in registry.versions():
        registry.load(version)  # every saved version is complete and matches its checksum


@pytest.mark.slow
def test_an_ingest_committing_during_a_refresh_is_not_in_that_snapshot(tmp_path):
    ws = build_workspace(tmp_path, customers=3000)
    train(ws)
    proc = _retain("refresh", "-w", str(ws.path))
    marts = ws.path / "marts"
    deadline = time.monotonic() + 120
    while not any(p.is_dir() for p in marts.glob(".tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    # 50 new subscribers, active now: a refresh reading the lake again would score them and put them in at_risk.
    newcomers = pd.DataFrame(
        {
            "subscription_id": [f"late-{i}" for i in range(50)],
            "customer_id": [f"LATE{i:03d}" for i in range(50)],
            "plan": ["basic"] * 50,
            "mrr": [29.0] * 50,
            "started_at": ["2025-12-01T00:00:00Z"] * 50,
            "status": ["active"] * 50,
        }
    )
    result = Workspace.open(ws.path).ingest("subscriptions", newcomers)
    assert result.rows_accepted == 50
    still_running = proc.poll() is None
    assert proc.wait() == 0, proc.stderr.read()
    assert still_running, "the refresh ended before the ingest committed; the test did not overlap them"

    snapshot = current_snapshot(Workspace.open(ws.path))
    batches = snapshot.manifest["lake"]["batches"]["subscriptions"]
    assert result.batch_path.name not in batches  # the snapshot's fixed view of the lake predates the ingest
    profiles = set(snapshot.read("profiles", columns=["customer_id"]).column("customer_id").to_pylist())
    at_risk = set(snapshot.read("at_risk", columns=["customer_id"]).column("customer_id").to_pylist())
    assert at_risk and at_risk <= profiles  # internally consistent: every scored customer has a profile
    assert not {c for c in profiles | at_risk if c.startswith("LATE")}
    assert snapshot.manifest["churn_model"] == "v1"
    # The next refresh sees them.
    again = refresh(Workspace.open(ws.path), as_of=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    assert again.rows["profiles"] == len(profiles) + 50


def test_without_a_trained_model_loading_says_so(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(NotFittedError, match="run `retain model train` first"):
        churn_registry(ws).load()
