"""``refresh``: compute every mart into a new snapshot and make it current together with its profiles.

Steps, under the workspace's ``refresh`` lock (one refresh at a time, also across hosts on PostgreSQL):

1. delete what a killed refresh left (``marts/.tmp-*``);
2. fix what the snapshot describes: one view of the lake (the batches committed now — an ingest committing later
   is not in this snapshot), one churn model version (loaded once — a training saving a new version later is not
   in it) and ``as_of`` (default: just after the latest timestamp of the data, so the latest fact counts and the
   same data gives the same marts);
3. check the user-defined segments against the profile spec; a bad one is reported and skipped, not fatal;
4. score the customers with the pinned model (``at_risk``, the profiles' risk columns);
5. run each mart builder into ``marts/.tmp-<id>/`` and publish the folder as ``marts/<id>/`` (not current yet);
6. in **one state-database transaction**: bring ``customer_profiles`` to this snapshot's profiles (only changed
   rows are written) and switch the workspace's current snapshot to ``<id>``;
7. delete snapshots beyond ``settings.keep_snapshots`` (the current one always stays).

A crash or a database failure anywhere before step 6 commits leaves both the marts and the profiles on the
previous snapshot; after it, both are on the new one. A published snapshot that never became current is only an
unused folder, pruned later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from retain.analytics.segments import Segment
from retain.contract.profile import PROFILE
from retain.errors import InputError, NotFittedError, StateDatabaseError
from retain.facts import Facts
from retain.marts import MARTS, MartName, RefreshContext, RiskScores, build_marts
from retain.marts.builders_risk import NO_MODEL_REASON, TOP_EXPLAINED
from retain.models.metadata import ModelMetadata
from retain.services.scoring import score_facts
from retain.services.snapshots import current_snapshot, marts_store
from retain.services.training import churn_registry
from retain.state.db import describe_database_error, is_database_error
from retain.state.locks import LockName
from retain.state.profiles import SEGMENTS, ProfileWrite, write_profiles
from retain.state.workspace_row import current_snapshot as current_snapshot_row
from retain.state.workspace_row import switch_snapshot
from retain.workspace import Workspace

__all__ = ["MANIFEST_VERSION", "RefreshProgress", "RefreshResult", "refresh"]

MANIFEST_VERSION = 2

RefreshProgress = Callable[[str, int, int], None]
"""``progress(step, finished, total)``: before each mart, then ``("profiles", …)`` and ``("done", total, total)``."""


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
    profiles: ProfileWrite
    model_version: str | None = None
    segment_errors: dict[str, str] = field(default_factory=dict)
    pruned: list[str] = field(default_factory=list)
    seconds_total: float = 0.0

    @property
    def profiles_written(self) -> int:
        """Profile rows inserted or updated in the state database (unchanged rows are not rewritten)."""
        return self.profiles.written


def _pinned_model(ws: Workspace) -> tuple[Any, ModelMetadata] | None:
    try:
        return churn_registry(ws).load()
    except NotFittedError:
        return None


def _valid_segments(segments: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The segments whose predicates compile against the profile spec, and the error of each one that does not."""
    columns = PROFILE.types()
    valid, errors = {}, {}
    for name, predicate in segments.items():
        try:
            Segment(name, predicate).compile(columns)
        except InputError as error:
            errors[name] = str(error)
        else:
            valid[name] = predicate
    return valid, errors


def _risk(facts: Facts, ctx: RefreshContext, pinned: tuple[Any, ModelMetadata] | None, ws: Workspace) -> None:
    if pinned is None:
        ctx.risk_skipped = NO_MODEL_REASON
        return
    model, metadata = pinned
    try:
        scored = score_facts(
            facts,
            model,
            metadata,
            as_of=ctx.as_of,
            top=TOP_EXPLAINED,
            health=ws.settings.health,
            explain_min_risk=ws.settings.automation.explain_min_p_churn,
        )
    except InputError as error:
        # A model that no longer fits the data (other features, other business model) must not fail the refresh.
        ctx.risk_skipped = f"the churn model cannot score this data: {error}"
        return
    ctx.risk = RiskScores(scored.ranked, metadata)


def _profiles_with_segments(profiles: pa.Table, members: pa.Table | None) -> pa.Table:
    """The profiles mart plus ``segments``: a JSON array of the user-defined segments each customer is in."""
    by_customer: dict[str, list[str]] = {}
    if members is not None:
        for customer_id, segment in zip(
            members["customer_id"].to_pylist(), members["segment"].to_pylist(), strict=True
        ):
            by_customer.setdefault(customer_id, []).append(segment)
    encoded = {customer: json.dumps(sorted(names)) for customer, names in by_customer.items()}
    column = [encoded.get(customer, "[]") for customer in profiles["customer_id"].to_pylist()]
    return profiles.append_column(SEGMENTS, pa.array(column, pa.string()))


def refresh(
    ws: Workspace,
    *,
    as_of: date | datetime | None = None,
    progress: RefreshProgress | None = None,
) -> RefreshResult:
    """Compute every mart of ``ws`` into a new snapshot and make it current, with its profiles, in one step.

    Parameters
    ----------
    ws
        The workspace; its engine runs the expressions, its clock gives the creation time.
    as_of
        The instant the marts describe (a date means midnight UTC: facts of that day are not included).
        Default: just after the latest timestamp in the data (the latest fact counts).
    progress
        Called as ``progress(step, finished, total)`` before each mart, before the profile write and at the end.

    Returns
    -------
    RefreshResult

    Raises
    ------
    NoDataError
        The workspace holds no data.
    InputError
        ``as_of`` is before its first fact.
    ConflictError
        Another refresh is running on this workspace.
    StateDatabaseError
        The state database failed while the profiles were written (nothing changed: the previous snapshot is
        still current).
    """
    began = time.perf_counter()
    settings = ws.settings
    store = marts_store(ws)
    with ws.locks.hold(LockName.REFRESH, busy=f"Another `retain refresh` is running on {ws.path}; wait and retry."):
        store.remove_temporary()
        facts = ws.facts()
        pinned = _pinned_model(ws)
        segments, segment_errors = _valid_segments(dict(settings.segments))
        ctx = RefreshContext.create(
            facts, as_of=as_of, activity_window_days=settings.activity_window_days, segments=segments
        )
        _risk(facts, ctx, pinned, ws)
        created_at = ws.clock.now()
        writer = store.begin(store.new_id(ctx.as_of, created_at))
        try:
            built = build_marts(ctx, writer, progress)
            manifest = {
                "version": MANIFEST_VERSION,
                "snapshot_id": writer.id,
                "as_of": ctx.as_of.isoformat(),
                "created_at": created_at.isoformat(),
                "data_start": ctx.data_start.isoformat(),
                "engine": str(settings.engine),
                "model": str(ctx.model),
                "activity_window_days": ctx.activity_window_days,
                "tables": facts.view.tables_with_data,
                "lake": {"fingerprint": facts.view.fingerprint, "batches": facts.view.describe()},
                "churn_model": None if pinned is None else pinned[1].version,
                "marts": {
                    name: {"file": writer.files[name], "rows": built.rows[name], "seconds": built.seconds[name]}
                    for name in built.rows
                },
                "skipped": built.skipped,
                "user_segments": sorted(segments),
                "segment_errors": segment_errors,
                "seconds_total": round(time.perf_counter() - began, 3),
            }
            snapshot = writer.commit(manifest)
        except BaseException:
            writer.abort()
            raise
        if progress is not None:
            progress("profiles", len(MARTS), len(MARTS))
        profiles = _profiles_with_segments(
            ctx.built[str(MartName.PROFILES)], ctx.built.get(str(MartName.SEGMENT_MEMBERSHIP))
        )
        try:
            with ws.transaction() as connection:
                written = write_profiles(connection, profiles, snapshot_id=snapshot.id)
                switch_snapshot(connection, snapshot_id=snapshot.id, as_of=ctx.as_of, now=created_at)
        except Exception as error:
            if not is_database_error(ws.state, error):
                raise
            previous = current_snapshot(ws)
            still = f"snapshot {previous.id} is still current" if previous else "no snapshot is current yet"
            raise StateDatabaseError(
                f"The state database failed while writing the profiles of snapshot {snapshot.id}: "
                f"{describe_database_error(error)}. Nothing changed: {still}. Fix the cause and run "
                "`retain refresh` again."
            ) from None
        with ws.connect() as connection:
            row = current_snapshot_row(connection)
        pruned = store.prune(
            settings.keep_snapshots, current=snapshot.id, previous=row.previous_snapshot_id if row else None
        )
    if progress is not None:
        progress("done", len(MARTS), len(MARTS))
    return RefreshResult(
        snapshot_id=snapshot.id,
        path=snapshot.path,
        as_of=ctx.as_of,
        created_at=created_at,
        engine=str(settings.engine),
        model=str(ctx.model),
        rows=built.rows,
        seconds=built.seconds,
        skipped=built.skipped,
        profiles=written,
        model_version=None if pinned is None else pinned[1].version,
        segment_errors=segment_errors,
        pruned=pruned,
        seconds_total=round(time.perf_counter() - began, 3),
    )
