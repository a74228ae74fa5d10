"""``refresh``: compute every registered mart into a new snapshot, make it current, upsert the profiles.

Steps (under the ``marts/.refresh.lock`` file lock, so two refreshes never interleave):

1. delete what a killed refresh left (``marts/.tmp-*``);
2. open the lake tables that hold data on the workspace's engine and fix ``as_of`` (default: the latest
   timestamp in the data — not the wall clock — so a refresh of the same data gives the same marts);
3. run each builder of :data:`~retain.marts.registry.MARTS` in order, writing ``<mart>.parquet`` into
   ``marts/.tmp-<id>/`` and calling ``progress`` after each;
4. write ``manifest.json``, rename the folder to ``marts/<id>/`` and atomically replace ``marts/CURRENT``;
5. upsert the profiles mart into the state DB's ``customer_profiles`` (one transaction);
6. delete snapshots beyond ``settings.keep_snapshots`` (the current one always stays).

A crash before step 4 leaves the previous snapshot current; the half-written folder is invisible and removed by
the next refresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from retain.contract.tables import TABLES
from retain.marts import builders_kpis  # noqa: F401  (registers the KPI builders)
from retain.marts.builders_customers import check_segments
from retain.marts.builders_risk import join_risk
from retain.marts.context import RefreshContext
from retain.marts.registry import MARTS, MartName, builders_in_order
from retain.marts.snapshot import MartsStore, Snapshot
from retain.state.profiles import upsert_profiles

if TYPE_CHECKING:
    from retain.workspace import Workspace

__all__ = ["MARTS_FOLDER", "RefreshProgress", "RefreshResult", "marts_store", "refresh"]

MARTS_FOLDER = "marts"
MANIFEST_VERSION = 1

RefreshProgress = Callable[[str, int, int], None]
"""``progress(mart, finished, total)``: called before each mart (``finished`` done so far) and once at the end."""


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh wrote."""

    snapshot_id: str
    path: Path
    as_of: datetime
    created_at: datetime
    engine: str
    model: str
    rows: dict[str, int]
    seconds: dict[str, float]
    skipped: dict[str, str]
    profiles_written: int
    pruned: list[str] = field(default_factory=list)
    seconds_total: float = 0.0


def marts_store(workspace: Workspace) -> MartsStore:
    """The marts folder of ``workspace``."""
    return MartsStore(workspace.path / MARTS_FOLDER)


def _profile_rows(table: pa.Table, members: pa.Table | None, batch_size: int) -> Iterator[dict[str, Any]]:
    """Profile rows with ``segments``: the sorted names of the user-defined segments the customer belongs to."""
    segments: dict[str, list[str]] = {}
    if members is not None:
        for row in members.to_pylist():
            segments.setdefault(row["customer_id"], []).append(row["segment"])
    for batch in table.to_batches(max_chunksize=batch_size):
        for row in batch.to_pylist():
            row["segments"] = sorted(segments.get(row["customer_id"], []))
            yield row


def refresh(
    workspace: Workspace,
    *,
    as_of: date | datetime | None = None,
    progress: RefreshProgress | None = None,
    profile_batch_size: int = 1000,
) -> RefreshResult:
    """Compute every mart of ``workspace`` into a new snapshot and make it current.

    Parameters
    ----------
    workspace
        The workspace; its ``backend`` (engine from the settings) runs the expressions, its ``clock`` gives
        the creation time.
    as_of
        The instant the marts describe (a date means midnight UTC: facts of that day are not included).
        Default: the latest timestamp in the data.
    progress
        Called as ``progress(mart, finished, total)`` before each mart and with ``("done", total, total)`` at
        the end.
    profile_batch_size
        Rows per upsert statement into ``customer_profiles``.

    Returns
    -------
    RefreshResult

    Raises
    ------
    InputError
        The workspace holds no data, or ``as_of`` is before its first fact.
    WorkspaceError
        Another refresh is running on this workspace.
    """
    began = time.perf_counter()
    settings = workspace.settings
    store = marts_store(workspace)
    with store.lock():
        store.remove_temporary()
        present = [name for name in TABLES if workspace.lake.batch_files(name)]
        ctx = RefreshContext.create(
            workspace.backend,
            workspace.table,
            present,
            as_of=as_of,
            activity_window_days=settings.activity_window_days,
            segments=settings.segments,
            workspace=workspace,
        )
        check_segments(ctx)
        created_at = workspace.clock.now()
        writer = store.begin(store.new_id(ctx.as_of, created_at))
        rows: dict[str, int] = {}
        seconds: dict[str, float] = {}
        try:
            builders = builders_in_order()
            for done, builder in enumerate(builders):
                if progress is not None:
                    progress(str(builder.name), done, len(builders))
                started = time.perf_counter()
                table = builder.build(ctx)
                if table is not None and builder.name is MartName.PROFILES:
                    table = join_risk(ctx, table)  # the customer 360 carries the early-warning columns
                if table is not None:
                    ctx.paths[str(builder.name)] = writer.write(builder.name, table)
                    ctx.built[str(builder.name)] = table
                    rows[str(builder.name)] = table.num_rows
                    seconds[str(builder.name)] = round(time.perf_counter() - started, 3)
            skipped = {name: reason for name, reason in ctx.skip_reasons.items() if name in set(map(str, MARTS))}
            manifest = {
                "version": MANIFEST_VERSION,
                "snapshot_id": writer.id,
                "as_of": ctx.as_of.isoformat(),
                "created_at": created_at.isoformat(),
                "data_start": ctx.data_start.isoformat() if ctx.data_start else None,
                "engine": str(settings.engine),
                "model": str(ctx.model),
                "activity_window_days": ctx.activity_window_days,
                "tables": present,
                "marts": {
                    name: {"file": writer.files[name], "rows": rows[name], "seconds": seconds[name]} for name in rows
                },
                "skipped": skipped,
                "user_segments": sorted(ctx.segments),
                "seconds_total": round(time.perf_counter() - began, 3),
            }
            snapshot = writer.commit(manifest)
        except BaseException:
            writer.abort()
            raise
        written = _upsert(workspace, snapshot, ctx, created_at, profile_batch_size)
        pruned = store.prune(settings.keep_snapshots)
    if progress is not None:
        progress("done", len(MARTS), len(MARTS))
    return RefreshResult(
        snapshot_id=snapshot.id,
        path=snapshot.path,
        as_of=ctx.as_of,
        created_at=created_at,
        engine=str(settings.engine),
        model=str(ctx.model),
        rows=rows,
        seconds=seconds,
        skipped=skipped,
        profiles_written=written,
        pruned=pruned,
        seconds_total=round(time.perf_counter() - began, 3),
    )


def _upsert(workspace: Workspace, snapshot: Snapshot, ctx: RefreshContext, created_at: datetime, size: int) -> int:
    profiles = ctx.built.get(str(MartName.PROFILES))
    if profiles is None:
        return 0
    return upsert_profiles(
        workspace.state,
        _profile_rows(profiles, ctx.built.get(str(MartName.SEGMENT_MEMBERSHIP)), size),
        snapshot_id=snapshot.id,
        as_of=ctx.as_of,
        refreshed_at=created_at,
        batch_size=size,
    )
