"""The customer 360: one customer's current profile, user segments and timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis

from retain.analytics.timeline import customer_timeline
from retain.contract.system_tables import SystemTableName
from retain.errors import NotFoundError, RetainError
from retain.facts import Facts
from retain.marts.snapshot import Snapshot
from retain.models.churn.features import churn_features
from retain.models.scoring import with_reasons
from retain.services._prepared_timeline import timeline_rows
from retain.services.snapshots import require_snapshot
from retain.services.training import churn_registry
from retain.state.profiles import get_profile
from retain.workspace import Workspace

__all__ = ["Customer360", "customer_360"]


@dataclass(frozen=True)
class Customer360:
    """Everything retain knows about one customer as of the current snapshot."""

    customer_id: str
    snapshot_id: str
    as_of: datetime
    profile: dict[str, Any]
    """Every column of the profile spec (``retain.contract.profile.PROFILE``), by name."""
    segments: list[str]
    timeline: list[dict[str, Any]]
    """``{"at", "kind", "summary", "amount", ...}`` per fact, oldest first."""


def customer_360(ws: Workspace, customer_id: str) -> Customer360:
    """The 360 of ``customer_id``: their profile in the current snapshot and the facts behind it.

    The profile comes from the state database (the current snapshot's row); the timeline is computed from exactly
    the lake batches that snapshot was computed from, up to its ``as_of``, so the two always agree. What the
    playbooks did (their enrolments and steps) is read from the lake as it is now, up to the workspace clock's
    now: a playbook run follows the refresh whose profiles it read, usually later than the snapshot's ``as_of``
    (just after the latest fact), and what it did belongs in this timeline.

    Raises
    ------
    NotFoundError
        If the current snapshot holds no such customer.
    """
    snapshot = require_snapshot(ws)
    with ws.connect() as connection:
        stored = get_profile(connection, customer_id)
    if stored is None:
        rows = snapshot.manifest["marts"].get("profiles", {}).get("rows", 0)
        raise NotFoundError(
            f"No customer {customer_id!r} in the analytics snapshot {snapshot.id} ({rows:,} customers as of "
            f"{snapshot.as_of:%Y-%m-%d %H:%M} UTC). Check the id, or run `retain refresh` if they were ingested "
            "after it."
        )
    facts = Facts(ws.backend, snapshot.lake_view(ws.lake.root))
    lake_now = ws.facts()
    enrolments = _written(lake_now, SystemTableName.PLAYBOOK_ENROLMENTS)
    messages = _written(lake_now, SystemTableName.PLAYBOOK_MESSAGES)
    if enrolments is None and messages is None:
        timeline = timeline_rows(facts, snapshot.id, customer_id, as_of=snapshot.as_of)
    else:
        # What playbooks did is read up to now (not the snapshot's as-of), a different literal per call, so
        # this path builds the whole expression instead of the prepared per-snapshot query.
        timeline = facts.backend.to_pyarrow(
            customer_timeline(
                facts.tables,
                customer_id,
                as_of=snapshot.as_of,
                enrolments=enrolments,
                messages=messages,
                playbooks_until=ws.clock.now(),
            )
        ).to_pylist()
    profile = dict(stored.profile)
    if profile.get("p_churn") is not None and profile.get("reasons") is None:
        profile.update(_reasons_now(ws, facts, snapshot, customer_id))
    return Customer360(customer_id, snapshot.id, snapshot.as_of, profile, stored.segments, timeline)


def _written(facts: Facts, name: SystemTableName) -> ibis.Table | None:
    """A system table the playbooks wrote, ``None`` when they wrote none (the timeline then leaves it out)."""
    return facts.system_table(name) if facts.has_system_table(name) else None


def _reasons_now(ws: Workspace, facts: Facts, snapshot: Snapshot, customer_id: str) -> dict[str, Any]:
    """Reasons of a scored customer the snapshot did not explain (it explains only the top of the list).

    Computed from the same facts and the same model version as the snapshot. The features are computed over
    everyone and then cut to this customer: some are relative to the population (the core features any customer
    used), so one customer's rows alone would give other values than the snapshot's scoring saw.
    """
    version = snapshot.manifest.get("churn_model")
    if version is None:
        return {}
    try:
        model, _ = churn_registry(ws).load(version)
    except RetainError:  # the version was deleted since: say nothing rather than explain with another model
        return {}
    everyone = churn_features(facts.tables, as_of=snapshot.as_of)
    features = facts.backend.to_pyarrow(everyone.filter(everyone.customer_id == customer_id)).to_pandas()
    if features.empty:
        return {}
    why = with_reasons(model, features, features[["customer_id"]], [customer_id])
    return {column: why[column].iloc[0] for column in ("reasons", "reason_code", "playbook")}
