"""Which marts snapshot is current: the state database says, the marts folder holds it."""

from __future__ import annotations

from retain.errors import NoSnapshotError
from retain.marts.snapshot import MartsStore, Snapshot
from retain.state.workspace_row import current_snapshot as _current_row
from retain.workspace import Workspace

__all__ = ["MARTS_FOLDER", "current_snapshot", "marts_store", "require_snapshot"]

MARTS_FOLDER = "marts"


def marts_store(ws: Workspace) -> MartsStore:
    """The ``marts/`` folder of ``ws``."""
    return MartsStore(ws.path / MARTS_FOLDER)


def current_snapshot(ws: Workspace) -> Snapshot | None:
    """The current marts snapshot (the one whose profiles the state database holds), ``None`` before any refresh."""
    with ws.connect() as connection:
        row = _current_row(connection)
    return None if row is None else marts_store(ws).get(row.snapshot_id)


def require_snapshot(ws: Workspace) -> Snapshot:
    """The current snapshot; a clear error when there is none yet."""
    snapshot = current_snapshot(ws)
    if snapshot is None:
        raise NoSnapshotError(
            f"No analytics snapshot in {ws.path} yet: run `retain refresh` first "
            "(it computes the marts these views read)."
        )
    return snapshot
