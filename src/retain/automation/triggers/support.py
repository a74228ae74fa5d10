"""Triggers on the voice of the customer: ``ticket`` (repeated unresolved complaints) and ``survey`` (NPS group).

Edges:

- **ticket** counts complaint tickets (``is_complaint``) opened in ``(as_of − within_days, as_of]`` and not
  resolved at ``as_of`` (``resolved_at`` empty or later: a ticket resolved after ``as_of`` was still open then),
  of ``category`` when given. One row per customer, keyed by the UTC date of the latest such ticket and fired at
  its ``opened_at``: a new complaint on another day gives a new key (the customer may enter again, if the
  playbook's re-entry rule lets them); resolving tickets only stops new entries.
- **survey** reads NPS answers (``survey == "nps"`` with a score) responded in the window: detractors score
  0–6, passives 7–8, promoters 9–10 (as in the NPS metric). One row per answer instant, fired at it.
"""

from __future__ import annotations

from enum import StrEnum

import ibis

from retain.analytics.satisfaction import NPS_SURVEY
from retain.automation.triggers import _params
from retain.automation.triggers._expr import date_text, empty_result, iso_text, json_object, result, within
from retain.automation.triggers.inputs import TriggerInputs
from retain.contract import TableName

__all__ = ["NpsGroup", "survey", "ticket"]


class NpsGroup(StrEnum):
    """The three groups of NPS answers."""

    DETRACTOR = "detractor"
    PASSIVE = "passive"
    PROMOTER = "promoter"


_SCORES: dict[NpsGroup, tuple[int, int]] = {
    NpsGroup.DETRACTOR: (0, 6),
    NpsGroup.PASSIVE: (7, 8),
    NpsGroup.PROMOTER: (9, 10),
}
"""Inclusive score range of each group."""


def ticket(
    inputs: TriggerInputs, *, min_unresolved: int = 2, within_days: int = 30, category: str | None = None
) -> ibis.Table:
    """Customers with at least ``min_unresolved`` complaints opened in the window and unresolved at ``as_of``."""
    min_unresolved = _params.count("ticket", "min_unresolved", min_unresolved)
    within_days = _params.days("ticket", "within_days", within_days)
    category = None if category is None else _params.text("ticket", "category", category)
    tickets = inputs.table(TableName.TICKETS)
    if tickets is None:
        return empty_result()
    t = tickets
    as_of = ibis.literal(inputs.as_of, "timestamp('UTC')")
    open_at = t.resolved_at.isnull() | (t.resolved_at > as_of)
    t = t.filter(t.is_complaint & open_at & within(t.opened_at, inputs.window_start(within_days), inputs.as_of))
    if category is not None:
        t = t.filter(t.category == category)
    g = t.group_by("customer_id").aggregate(
        unresolved=t.count(), first_opened_at=t.opened_at.min(), latest_opened_at=t.opened_at.max()
    )
    g = g.filter(g.unresolved >= min_unresolved)
    return result(
        g,
        customer_id=g.customer_id,
        trigger_key="ticket:" + date_text(g.latest_opened_at),
        fired_at=g.latest_opened_at,
        detail=json_object(
            unresolved_complaints=g.unresolved.cast("int64"),
            first_opened_at=g.first_opened_at,
            latest_opened_at=g.latest_opened_at,
            category=category,
        ),
    )


def survey(inputs: TriggerInputs, *, group: str, within_days: int = 1) -> ibis.Table:
    """NPS answers in the ``group`` responded in the window; key ``survey:<responded_at ISO>``."""
    which = _params.choice("survey", "group", group, NpsGroup)
    within_days = _params.days("survey", "within_days", within_days)
    feedback = inputs.table(TableName.FEEDBACK)
    if feedback is None:
        return empty_result()
    low, high = _SCORES[which]
    f = feedback
    f = f.filter(
        (f.survey == NPS_SURVEY)
        & f.score.between(low, high)
        & within(f.responded_at, inputs.window_start(within_days), inputs.as_of)
    )
    optional = {name: f[name] for name in ("reason", "comment") if name in f.columns}
    return result(
        f,
        customer_id=f.customer_id,
        trigger_key="survey:" + iso_text(f.responded_at),
        fired_at=f.responded_at,
        detail=json_object(
            survey=NPS_SURVEY,
            group=which.value,
            score=f.score.cast("int64"),
            responded_at=f.responded_at,
            **optional,
        ),
    )
