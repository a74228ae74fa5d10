"""Marts: versioned Parquet snapshots of every metric, written by ``refresh`` and read by the CLI views and report.

See :mod:`retain.marts.snapshot` for the on-disk layout and its crash guarantees, :mod:`retain.marts.registry`
for how marts are declared and :func:`refresh` for the job.
"""

from retain.marts.context import BusinessModel, RefreshContext
from retain.marts.refresh import MARTS_FOLDER, RefreshProgress, RefreshResult, marts_store, refresh
from retain.marts.registry import MARTS, MartBuilder, MartName, register
from retain.marts.snapshot import MartsStore, Snapshot, make_snapshot_id, parse_snapshot_id

__all__ = [
    "MARTS",
    "MARTS_FOLDER",
    "BusinessModel",
    "MartBuilder",
    "MartName",
    "MartsStore",
    "RefreshContext",
    "RefreshProgress",
    "RefreshResult",
    "Snapshot",
    "make_snapshot_id",
    "marts_store",
    "parse_snapshot_id",
    "refresh",
    "register",
]
