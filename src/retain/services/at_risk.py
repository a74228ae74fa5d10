"""The at-risk list a retention team works from: ranked by expected loss, filtered, explained, ready for a CRM.

``at_risk(ws)`` scores the workspace with its current model (:func:`retain.services.scoring.score`), keeps the
customers the filters ask for — a minimum P(churn), a segment (a user-defined segment of ``retain.toml``, an RFM
segment or a lifecycle state of the current snapshot), a reason code — and explains exactly the customers it
returns (explaining is the slow step; ``--reason`` needs the candidates explained first, so it explains those
too). Each row carries the customer's name and email for a CRM export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import ibis
import pandas as pd

from retain.analytics.segments import compile_segment
from retain.contract.business_model import BusinessModel
from retain.contract.profile import PROFILE
from retain.contract.tables import TableName
from retain.contract.taxonomy import ReasonCode
from retain.errors import InputError
from retain.models.scoring import with_reasons
from retain.services.scoring import score
from retain.services.snapshots import require_snapshot
from retain.services.training import churn_registry
from retain.workspace import Workspace

__all__ = ["AtRiskList", "at_risk"]

CONTACT_COLUMNS = ("name", "email")


@dataclass(frozen=True)
class AtRiskList:
    """The customers to act on, in order, and what produced the list."""

    rows: pd.DataFrame
    """Ranked customers (``rank`` is the position among everyone scored), with reasons, name and email."""
    scored: int
    """Customers of the model's population (before the filters)."""
    matching: int
    """Customers the filters kept (before ``top``)."""
    as_of: datetime
    model_version: str
    business_model: BusinessModel
    horizon_days: int
    activity_window_days: int
    filters: dict[str, str] = field(default_factory=dict)


def _segment_members(ws: Workspace, name: str) -> set[str]:
    """Customers of segment ``name`` in the current snapshot: a user segment, an RFM segment or a lifecycle state."""
    snapshot = require_snapshot(ws)
    profiles = ws.backend.read_parquet(str(snapshot.path / snapshot.manifest["marts"]["profiles"]["file"]))
    predicates = dict(ws.settings.segments)
    if name in predicates:
        condition = compile_segment(predicates[name], PROFILE.types())(profiles)
    else:
        known = ws.backend.to_pyarrow(
            profiles.select(rfm=profiles.rfm_segment, life=profiles.lifecycle_state).distinct()
        ).to_pylist()
        rfm = sorted({r["rfm"] for r in known if r["rfm"]})
        life = sorted({r["life"] for r in known if r["life"]})
        if name in rfm:
            condition = profiles.rfm_segment == name
        elif name in life:
            condition = profiles.lifecycle_state == name
        else:
            raise InputError(
                f"No segment {name!r}. User segments (retain.toml): {', '.join(sorted(predicates)) or 'none'}; "
                f"RFM segments: {', '.join(rfm) or 'none'}; lifecycle states: {', '.join(life) or 'none'}."
            )
    members = ws.backend.to_pyarrow(profiles.filter(condition).select("customer_id"))
    return set(members.column("customer_id").to_pylist())


def _contacts(ws: Workspace, customer_ids: list[str]) -> pd.DataFrame:
    facts = ws.facts()
    table = facts.table(TableName.CUSTOMERS)
    if table is None or not customer_ids:  # object columns: an empty list must still merge on text ids
        return pd.DataFrame({c: pd.Series([None] * len(customer_ids), dtype=object) for c in CONTACT_COLUMNS}).assign(
            customer_id=pd.Series(customer_ids, dtype=object)
        )
    wanted = table.filter(table.customer_id.isin(ibis.literal(customer_ids)))
    return facts.backend.to_pyarrow(wanted.select("customer_id", *CONTACT_COLUMNS)).to_pandas()


def at_risk(
    ws: Workspace,
    *,
    top: int | None = 20,
    min_risk: float | None = None,
    segment: str | None = None,
    reason: str | None = None,
    as_of: date | datetime | None = None,
    offset: int = 0,
) -> AtRiskList:
    """The at-risk list of ``ws``.

    Parameters
    ----------
    top
        Keep the first ``top`` customers after the filters (``None``: all of them).
    min_risk
        Keep customers with P(churn) of at least this (0–1).
    segment
        Keep the members of this segment of the current snapshot (user-defined, RFM or lifecycle state).
    reason
        Keep customers whose first reason has this code (a :class:`~retain.contract.taxonomy.ReasonCode`).
    as_of
        The instant scored (default: just after the latest fact).
    offset
        Skip the first ``offset`` customers after the filters (a page of the list: ``offset``, ``top``).

    Raises
    ------
    InputError
        An out-of-range ``min_risk``, ``top`` or ``offset``, an unknown segment or reason code (the message lists
        the valid ones).
    """
    if top is not None and top < 1:
        raise InputError(f"top must be at least 1 (or None for everyone); got {top}.")
    if offset < 0:
        raise InputError(f"offset must be at least 0; got {offset}.")
    if min_risk is not None and not 0 <= min_risk <= 1:
        raise InputError(f"min_risk is a probability between 0 and 1 (e.g. 0.3); got {min_risk}.")
    if reason is not None and reason not in set(ReasonCode):
        raise InputError(f"Unknown reason code {reason!r}. Valid codes: {', '.join(ReasonCode)}.")
    scored = score(ws, as_of=as_of, top=0)
    ranked = scored.ranked
    keep = pd.Series(True, index=ranked.index)
    filters: dict[str, str] = {}
    if min_risk is not None:
        keep &= ranked["p_churn"] >= min_risk
        filters["min_risk"] = f"{min_risk:.0%}"
    if segment is not None:
        keep &= ranked["customer_id"].isin(_segment_members(ws, segment))
        filters["segment"] = segment
    candidates = ranked[keep]
    model, _ = churn_registry(ws).load(scored.model_version)
    if reason is not None:
        explained = with_reasons(model, scored.features, candidates, candidates["customer_id"])
        candidates = explained[explained["reason_code"] == reason]
        filters["reason"] = reason
    matching = len(candidates)
    shown = candidates.iloc[offset:] if top is None else candidates.iloc[offset : offset + top]
    if reason is None:
        shown = with_reasons(model, scored.features, shown, shown["customer_id"])
    contacts = _contacts(ws, shown["customer_id"].tolist()).drop_duplicates("customer_id")
    shown = shown.merge(contacts, on="customer_id", how="left")
    return AtRiskList(
        rows=shown.reset_index(drop=True),
        scored=len(ranked),
        matching=matching,
        as_of=scored.as_of,
        model_version=scored.model_version,
        business_model=scored.business_model,
        horizon_days=scored.horizon_days,
        activity_window_days=ws.settings.activity_window_days,
        filters=filters,
    )
