"""``changes``: the current snapshot against the previous one — hand-built so every change is known."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from marts_builders import build_tiny

from retain.errors import WorkspaceError
from retain.services import changes, refresh


def test_lifecycle_and_segment_moves_and_kpi_deltas_between_two_snapshots(tmp_path):
    ws = build_tiny(tmp_path / "ws")
    refresh(ws, as_of=datetime(2024, 3, 1, tzinfo=UTC))
    with pytest.raises(WorkspaceError, match=r"is the first one of .*: there is nothing to compare it with yet"):
        changes(ws)
    refresh(ws, as_of=datetime(2024, 4, 15, 12, tzinfo=UTC))
    diff = changes(ws)
    # On 2024-03-01 c2's subscription still ran (cancelled on 2024-03-10); by 2024-04-15 it had churned.
    lifecycle = {(m.before, m.after): m.customers for m in diff.moves if m.kind == "lifecycle"}
    assert lifecycle[("active", "churned")] == 1
    # KPIs of the current snapshot's latest whole month (March 2024) against the same month before, where the
    # first snapshot (as of March 1) had no whole March: its latest whole month (February) is compared.
    kpis = {k.kpi: k for k in diff.kpis}
    assert kpis["active customers"].month == datetime(2024, 3, 1, tzinfo=UTC)
    assert kpis["active customers"].previous_month == datetime(2024, 2, 1, tzinfo=UTC)
    assert (kpis["active customers"].previous, kpis["active customers"].current) == (2, 1)
    assert kpis["active customers"].delta == -1
    assert diff.newly_at_risk.empty  # no churn model: nobody is ranked
    assert diff.previous.id != diff.current.id


def test_a_pruned_previous_snapshot_is_said_plainly(tmp_path):
    import shutil

    ws = build_tiny(tmp_path / "ws")
    first = refresh(ws, as_of=datetime(2024, 3, 1, tzinfo=UTC))
    refresh(ws)
    shutil.rmtree(first.path)
    with pytest.raises(WorkspaceError, match=rf"The previous snapshot {first.snapshot_id} is no longer in"):
        changes(ws)


def test_newly_at_risk_are_the_customers_entering_the_top(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    from scoring_builders import build_workspace

    from retain.services import train

    ws = build_workspace(tmp_path, customers=600)
    train(ws)
    refresh(ws, as_of=datetime(2025, 11, 1, tzinfo=UTC))
    refresh(ws)
    diff = changes(ws, top=30)
    profiles = diff.current.read("profiles").to_pandas().set_index("customer_id")
    before = diff.previous.read("profiles").to_pandas().set_index("customer_id")
    top_now = set(profiles.index[profiles["risk_rank"] <= 30])
    top_before = set(before.index[before["risk_rank"] <= 30])
    assert set(diff.newly_at_risk["customer_id"]) == top_now - top_before
    assert len(diff.newly_at_risk) > 0
    assert diff.newly_at_risk["risk_rank"].is_monotonic_increasing
    previous = pd.to_numeric(diff.newly_at_risk["previous_rank"])
    assert (previous.isna() | (previous > 30)).all()


def test_retain_changes_prints_the_moves_and_kpis_in_80_columns(tmp_path):
    from typer.testing import CliRunner

    from retain.cli.main import app

    ws = build_tiny(tmp_path / "ws")
    refresh(ws, as_of=datetime(2024, 3, 1, tzinfo=UTC))
    refresh(ws)
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["changes", "-w", str(ws.path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())
    flat = " ".join(result.output.split())
    assert "Changes from snapshot as of 2024-03-01 to 2024-04-15" in flat
    assert "│ lifecycle │ active │ churned │ 1 │" in flat
    assert "│ active customers │ 2 │ 1 │ -1.0 │" in flat
