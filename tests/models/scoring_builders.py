"""Small synthetic workspaces for the registry, scoring and model CLI tests (no fixtures: plain functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from retain.clock import FixedClock
from retain.synth import generate
from retain.workspace import Workspace

TRAINED_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
"""The fixed clock of the test workspaces: models trained in them record this ``created_at``."""


def build_workspace(
    root: Path, *, customers: int = 600, model: str = "subscription", months: int = 15, seed: int = 3
) -> Workspace:
    """A workspace holding ``customers`` synthetic customers over ``months`` months ending 2025-12-31."""
    synthetic = root / "synthetic"
    generate(synthetic, customers=customers, model=model, seed=seed, months=months, end=date(2025, 12, 31))
    ws = Workspace.init(root / "ws", clock=FixedClock(TRAINED_AT))
    for file in sorted(synthetic.glob("*.parquet")):
        ws.ingest(file.stem, file)
    return ws
