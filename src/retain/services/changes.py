"""What changed since the previous snapshot: customers newly at risk, lifecycle and segment moves, KPI deltas.

The state database remembers which snapshot was current before the current one (``retain refresh`` switches
both); this compares the two snapshots' marts — what a retention manager reads on Monday morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from retain.errors import WorkspaceError
from retain.marts.registry import MartName
from retain.marts.snapshot import Snapshot
from retain.marts.views import metrics_view
from retain.services.snapshots import marts_store, require_snapshot
from retain.state.workspace_row import current_snapshot as current_row
from retain.workspace import Workspace

__all__ = ["KPI_CHANGES", "Changes", "KpiChange", "Move", "changes"]

KPI_CHANGES: tuple[tuple[str, str, str], ...] = (
    # label, metrics section, column
    ("active customers", "retention", "end_customers"),
    ("retention rate %", "retention", "retention_rate"),
    ("churn rate %", "retention", "churn_rate"),
    ("MRR", "mrr", "ending_mrr"),
    ("NRR %", "mrr", "nrr"),
    ("GRR %", "mrr", "grr"),
    ("revenue", "commerce", "revenue"),
    ("AOV", "commerce", "aov"),
    ("repeat-purchase rate %", "commerce", "repeat_purchase_rate"),
    ("NPS", "satisfaction", "nps"),
)
"""The headline KPIs compared, each for the latest whole month of each snapshot."""


@dataclass(frozen=True)
class KpiChange:
    kpi: str
    month: datetime
    """The latest whole month of the current snapshot."""
    previous_month: datetime | None
    """The same month in the previous snapshot, or its latest whole month when it did not reach that one."""
    previous: float | None
    current: float | None

    @property
    def delta(self) -> float | None:
        return None if self.previous is None or self.current is None else self.current - self.previous


@dataclass(frozen=True)
class Move:
    """Customers who went from one state (or segment) to another between the two snapshots."""

    kind: str
    """``lifecycle`` or ``rfm``."""
    before: str
    after: str
    customers: int


@dataclass(frozen=True)
class Changes:
    current: Snapshot
    previous: Snapshot
    newly_at_risk: pd.DataFrame
    """Customers in the current top ``top`` by risk rank who were not in the previous one: ``customer_id``,
    ``risk_rank``, ``p_churn``, ``expected_loss``, ``reason_code``, ``reasons`` and their previous rank."""
    moves: list[Move]
    kpis: list[KpiChange]
    top: int


_PROFILE_COLUMNS = ["customer_id", "risk_rank", "p_churn", "expected_loss", "reason_code", "reasons", "lifecycle_state",
                    "rfm_segment"]  # fmt: skip


def _profiles(snapshot: Snapshot) -> pd.DataFrame:
    return snapshot.read(MartName.PROFILES, columns=_PROFILE_COLUMNS).to_pandas().set_index("customer_id")


def _latest_whole_month(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    whole = [r for r in rows if r["complete"]]
    return whole[-1] if whole else (rows[-1] if rows else None)


def _kpis(current: Snapshot, previous: Snapshot) -> list[KpiChange]:
    now, before = metrics_view(current, freq="month"), metrics_view(previous, freq="month")
    latest = _latest_whole_month(now)
    if latest is None:
        return []
    same = [r for r in before if r["period_start"] == latest["period_start"]]
    then = same[0] if same else _latest_whole_month(before)
    out = []
    for label, section, column in KPI_CHANGES:
        if section not in latest:
            continue
        value = latest[section].get(column)
        old = (then or {}).get(section, {}).get(column) if then else None
        out.append(KpiChange(label, latest["period_start"], then["period_start"] if then else None, old, value))
    return out


def _moves(now: pd.DataFrame, before: pd.DataFrame, column: str, kind: str) -> list[Move]:
    both = (
        now[[column]]
        .merge(before[[column]], how="inner", left_index=True, right_index=True, suffixes=("_now", "_before"))
        .fillna("none")
    )
    changed = both[both[f"{column}_now"] != both[f"{column}_before"]]
    counts = changed.groupby([f"{column}_before", f"{column}_now"], dropna=False).size()
    moves = [Move(kind, str(b), str(a), int(n)) for (b, a), n in counts.items()]
    return sorted(moves, key=lambda m: (-m.customers, m.before, m.after))


def changes(ws: Workspace, *, top: int = 50) -> Changes:
    """Compare the current snapshot with the one current before it.

    Parameters
    ----------
    top
        "At risk" means being in the first ``top`` customers of the at-risk list (by ``risk_rank``).

    Raises
    ------
    WorkspaceError
        Before the second refresh (nothing to compare with), or when the previous snapshot was deleted.
    """
    current = require_snapshot(ws)
    with ws.connect() as connection:
        row = current_row(connection)
    if row is None or row.previous_snapshot_id is None:
        raise WorkspaceError(
            f"Snapshot {current.id} is the first one of {ws.path}: there is nothing to compare it with yet. "
            "Run `retain refresh` again after new data arrives."
        )
    try:
        previous = marts_store(ws).get(row.previous_snapshot_id)
    except WorkspaceError:
        raise WorkspaceError(
            f"The previous snapshot {row.previous_snapshot_id} is no longer in {ws.path / 'marts'} (pruned or "
            "deleted); changes can be shown again after the next refresh."
        ) from None
    now, before = _profiles(current), _profiles(previous)
    ranked_now = now[now["risk_rank"].notna() & (now["risk_rank"] <= top)]
    was = before["risk_rank"].reindex(ranked_now.index)
    newly = ranked_now[~(was <= top)].assign(previous_rank=was[~(was <= top)])
    newly = newly.sort_values("risk_rank").reset_index()
    moves = _moves(now, before, "lifecycle_state", "lifecycle") + _moves(now, before, "rfm_segment", "rfm")
    return Changes(current, previous, newly, moves, _kpis(current, previous), top)
