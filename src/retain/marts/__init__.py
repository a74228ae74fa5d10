"""Marts: versioned Parquet snapshots of every metric, computed by the refresh service and read by the views.

See :mod:`retain.marts.snapshot` for the on-disk layout and its crash guarantees, :mod:`retain.marts.registry`
for how marts are declared, :func:`build_marts` for the loop that computes them and :mod:`retain.marts.views`
for the read side. The refresh itself (one fixed view of the lake, one pinned model, snapshot and profiles made
current together) is :func:`retain.services.refresh`.
"""

from retain.marts.build import BuiltMarts, MartProgress, build_marts
from retain.marts.context import RefreshContext, RiskScores
from retain.marts.registry import MARTS, MartBuilder, MartName, register
from retain.marts.snapshot import MartsStore, Snapshot, SnapshotWriter, make_snapshot_id, parse_snapshot_id

__all__ = [
    "MARTS",
    "BuiltMarts",
    "MartBuilder",
    "MartName",
    "MartProgress",
    "MartsStore",
    "RefreshContext",
    "RiskScores",
    "Snapshot",
    "SnapshotWriter",
    "build_marts",
    "make_snapshot_id",
    "parse_snapshot_id",
    "register",
]
