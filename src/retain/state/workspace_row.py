"""Repository of the ``workspace`` row: which workspace a state database belongs to, and its current snapshot.

**One database, one workspace.** Every state table (ingest runs, profiles, later playbook runs and the outbox)
describes one workspace, so two workspaces pointed at the same PostgreSQL database would overwrite each other
(one's recovery closing the other's running ingest, one's refresh deleting the other's profiles). The first
workspace to open a database claims it; another one is refused with a message that says how to give it its own.

**The current snapshot.** The id of the marts snapshot that is current lives here, switched by
:func:`switch_snapshot` inside the transaction that writes that snapshot's profiles: the marts folder and the
profiles table can never disagree about which snapshot is current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from retain.errors import WorkspaceError
from retain.state.tables import workspace

__all__ = ["CurrentSnapshot", "claim_database", "current_snapshot", "switch_snapshot"]


@dataclass(frozen=True)
class CurrentSnapshot:
    """The current marts snapshot as the state database records it, and the one current before it."""

    snapshot_id: str
    as_of: datetime
    switched_at: datetime
    previous_snapshot_id: str | None = None


def claim_database(connection: sa.Connection, *, workspace_id: str, path: str, now: datetime, database: str) -> None:
    """Record that this database belongs to workspace ``workspace_id``, or refuse if another one owns it.

    Parameters
    ----------
    connection
        Inside a transaction.
    workspace_id, path
        The opening workspace's id (its ``workspace.id`` file) and folder.
    now
        Claim time.
    database
        The database URL as shown to people (password hidden), for the message.

    Raises
    ------
    WorkspaceError
        Another workspace already uses this database.
    """
    row = connection.execute(sa.select(workspace.c.workspace_id, workspace.c.path)).first()
    if row is None:
        # Two first opens may race: the primary key on the single slot lets exactly one insert win.
        try:
            with connection.begin_nested():
                connection.execute(
                    workspace.insert().values(slot=1, workspace_id=workspace_id, path=path, claimed_at=now)
                )
            return
        except sa.exc.IntegrityError:
            row = connection.execute(sa.select(workspace.c.workspace_id, workspace.c.path)).one()
    if row.workspace_id != workspace_id:
        raise WorkspaceError(
            f"The state database {database} already belongs to another workspace ({row.path}, id "
            f"{row.workspace_id}); two workspaces in one database would overwrite each other's runs and profiles. "
            f"Give {path} a database of its own (e.g. RETAIN_DATABASE_URL=…/retain_{_slug(path)}), "
            "or open the workspace that owns it."
        )
    if row.path != path:
        connection.execute(workspace.update().values(path=path))  # the folder moved: keep the message accurate


def _slug(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    return "".join(ch if ch.isalnum() else "_" for ch in name) or "workspace"


def current_snapshot(connection: sa.Connection) -> CurrentSnapshot | None:
    """The current marts snapshot, or ``None`` before the first refresh."""
    row = connection.execute(
        sa.select(
            workspace.c.snapshot_id,
            workspace.c.snapshot_as_of,
            workspace.c.switched_at,
            workspace.c.previous_snapshot_id,
        )
    ).first()
    if row is None or row.snapshot_id is None:
        return None
    return CurrentSnapshot(row.snapshot_id, row.snapshot_as_of, row.switched_at, row.previous_snapshot_id)


def switch_snapshot(connection: sa.Connection, *, snapshot_id: str, as_of: datetime, now: datetime) -> None:
    """Make ``snapshot_id`` current (call in the transaction that writes its profiles)."""
    updated = connection.execute(
        workspace.update().values(
            previous_snapshot_id=sa.case(
                (workspace.c.snapshot_id == snapshot_id, workspace.c.previous_snapshot_id),
                else_=workspace.c.snapshot_id,
            ),
            snapshot_id=snapshot_id,
            snapshot_as_of=as_of,
            switched_at=now,
        )
    )
    if updated.rowcount != 1:
        raise WorkspaceError("the state database has no workspace row; open it through Workspace.open first.")
