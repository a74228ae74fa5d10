"""The analytics views of the current snapshot: KPIs per period, cohorts, segments.

Each view reads marts of the one snapshot the state database marks current and returns plain rows; nothing is
computed here (the refresh did that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from retain.analytics.periods import Freq
from retain.marts.registry import MartName
from retain.marts.views import CohortView, cohort_view, metric_section_columns, metrics_view, segments_view
from retain.services.snapshots import require_snapshot
from retain.workspace import Workspace

__all__ = ["CohortView", "SnapshotView", "cohorts", "metric_section_columns", "metrics", "segments"]


@dataclass(frozen=True)
class SnapshotView:
    """Rows of a view and the snapshot they come from."""

    snapshot_id: str
    as_of: datetime
    data: Any
    business_model: str = "subscription"
    activity_window_days: int = 90
    lifetime_repeat: tuple[int, int] | None = None
    """Shops: (customers with two or more orders, customers with one or more) up to ``as_of``."""


def metrics(ws: Workspace, *, freq: Freq | str = Freq.MONTH, last: int | None = None) -> SnapshotView:
    """KPIs per period (see :func:`retain.marts.views.metrics_view`)."""
    snapshot = require_snapshot(ws)
    model = snapshot.manifest.get("model", "subscription")
    repeat = None
    if model == "commerce" and snapshot.has(MartName.PROFILES):
        orders = snapshot.read(MartName.PROFILES, columns=["orders"]).column("orders").to_numpy(zero_copy_only=False)
        repeat = (int((orders >= 2).sum()), int((orders >= 1).sum()))
    return SnapshotView(
        snapshot.id,
        snapshot.as_of,
        metrics_view(snapshot, freq=freq, last=last),
        business_model=model,
        activity_window_days=int(snapshot.manifest.get("activity_window_days", 90)),
        lifetime_repeat=repeat,
    )


def cohorts(ws: Workspace, *, measure: str = "logo", shares: bool = False) -> SnapshotView:
    """The monthly cohort triangle (a :class:`CohortView` in ``data``)."""
    snapshot = require_snapshot(ws)
    return SnapshotView(snapshot.id, snapshot.as_of, cohort_view(snapshot, measure=measure, shares=shares))


def segments(ws: Workspace) -> SnapshotView:
    """Segment sizes: RFM, lifecycle states, user-defined segments (:func:`~retain.marts.views.segments_view`)."""
    snapshot = require_snapshot(ws)
    return SnapshotView(snapshot.id, snapshot.as_of, segments_view(snapshot))
