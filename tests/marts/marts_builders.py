"""Workspaces for the marts, CLI and report tests: a tiny hand-built one with known marts, and a synthetic one.

Import with ``from marts_builders import ...`` (tests/marts is on sys.path for its tests; the CLI and report
tests add it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from retain.clock import FixedClock
from retain.synth import generate
from retain.workspace import Workspace

CREATED = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

# Three subscribers (see test_refresh_literal.py for the expected marts):
#   c1 pays 10 from 2024-01-01, still running;
#   c2 pays 20 from 2024-01-15, cancels (voluntary) on 2024-03-10;
#   c3 pays 30 from 2024-02-01, payment fails (involuntary) on 2024-02-20.
SUBSCRIPTIONS = pd.DataFrame(
    {
        "subscription_id": ["s1", "s2", "s3"],
        "customer_id": ["c1", "c2", "c3"],
        "plan": ["basic", "pro", "max"],
        "mrr": [10.0, 20.0, 30.0],
        "started_at": ["2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z", "2024-02-01T00:00:00Z"],
        "ended_at": [None, "2024-03-10T00:00:00Z", "2024-02-20T00:00:00Z"],
        "status": ["active", "canceled", "canceled"],
        "churn_type": [None, "voluntary", "involuntary"],
    }
)
# c1 orders twice (100 + 50), c2 once (80).
ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2", "o3"],
        "customer_id": ["c1", "c2", "c1"],
        "ordered_at": ["2024-01-10T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-05T00:00:00Z"],
        "amount": [100.0, 80.0, 50.0],
        "status": ["completed", "completed", "completed"],
    }
)
# The latest fact: it makes the default as_of 2024-04-15 12:00 UTC.
EVENTS = pd.DataFrame(
    {"customer_id": ["c1"], "event_type": ["login"], "occurred_at": ["2024-04-15T12:00:00Z"]},
)


def build_tiny(path: Path, **overrides: object) -> Workspace:
    ws = Workspace.init(path, clock=FixedClock(CREATED), **overrides)
    for name, frame in (("subscriptions", SUBSCRIPTIONS), ("orders", ORDERS), ("events", EVENTS)):
        result = ws.ingest(name, frame)
        assert result.rows_rejected == 0, (name, result)
    return ws


def build_synthetic(root: Path, *, customers: int = 400, model: str = "subscription", seed: int = 3) -> Workspace:
    out = root / f"synthetic-{model}"
    generate(out, customers=customers, model=model, seed=seed, fmt="parquet", months=12)
    ws = Workspace.init(root / f"ws-{model}", clock=FixedClock(CREATED))
    for file in sorted(out.glob("*.parquet")):
        ws.ingest(file.stem, file)
    return ws
