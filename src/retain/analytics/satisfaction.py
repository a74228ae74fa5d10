"""Satisfaction and support metrics: NPS, CSAT, survey response counts, support load, repeated complaints.

Definitions (DESIGN.md section 4), per period ``[start, end)`` (facts with ``start <= time < end``):

- **NPS** over answers with ``survey == "nps"`` and a score: promoters score 9–10, passives 7–8, detractors 0–6;
  ``nps = 100 × (promoters − detractors) / answers`` (= % promoters − % detractors), from −100 to 100.
- **CSAT** over answers with ``survey == "csat"`` and a score (1–5): ``csat = 100 × answers scoring 4–5 /
  answers``. Both are null without answers; answers without a score count as responses but not in the scores.
- **Responses per survey**: every answer, whatever the survey (``nps``, ``csat``, ``exit`` or your own).
- **Support**: ``tickets_opened`` (opened in the period), ``complaints`` (opened, ``is_complaint``),
  ``tickets_resolved`` (resolved in the period) and ``median_hours_to_resolve`` (exact median of
  ``resolved_at − opened_at`` in hours, to the second, over the tickets resolved in the period; 4 decimals),
  ``open_at_end`` and ``open_complaints_at_end``: unresolved at the instant ``end`` (``opened_at <= end`` and
  ``resolved_at`` null or after ``end``).

Percentages are exact divisions of counts (identical on every engine), not rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import ibis

from retain.analytics._exact_median import exact_median
from retain.analytics._inputs import require_columns
from retain.analytics._states import PERIOD_KEYS, left_join
from retain.analytics.periods import as_instant, periods_table, to_periods
from retain.contract import TableName
from retain.errors import InputError

__all__ = [
    "COMPLAINT_COLUMNS",
    "SATISFACTION_COLUMNS",
    "SUPPORT_COLUMNS",
    "repeated_unresolved_complaints",
    "satisfaction_summary",
    "support_summary",
    "survey_responses",
]

SATISFACTION_COLUMNS = (
    "period_start",
    "period_end",
    "nps_answers",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "csat_answers",
    "csat_satisfied",
    "csat",
)
"""Columns of :func:`satisfaction_summary`, in order."""

SUPPORT_COLUMNS = (
    "period_start",
    "period_end",
    "tickets_opened",
    "complaints",
    "tickets_resolved",
    "median_hours_to_resolve",
    "open_at_end",
    "open_complaints_at_end",
)
"""Columns of :func:`support_summary`, in order."""

COMPLAINT_COLUMNS = ("customer_id", "unresolved_complaints", "oldest_open_days")
"""Columns of :func:`repeated_unresolved_complaints`, in order."""

NPS_SURVEY = "nps"
CSAT_SURVEY = "csat"
HOUR_DIGITS = 4
DAY_DIGITS = 4
_HUNDRED = ibis.literal(100.0, "float64")
_PeriodsArg = Iterable[tuple[date | datetime, date | datetime]]


def _percent(part, whole):
    return _HUNDRED * part.cast("float64") / whole.cast("float64").nullif(0.0)


def _in_period(table: ibis.Table, column: str, periods: ibis.Table) -> ibis.Table:
    return table.join(periods, [table[column] >= periods.period_start, table[column] < periods.period_end])


def _fill_counts(p: ibis.Table, agg: ibis.Table, counts: Iterable[str]) -> ibis.Table:
    full = left_join(p, agg, list(PERIOD_KEYS))
    return full.mutate(**{c: full[c].fill_null(0) for c in counts})


def satisfaction_summary(feedback: ibis.Table, periods: _PeriodsArg) -> ibis.Table:
    """NPS and CSAT per period.

    Parameters
    ----------
    feedback
        The canonical ``feedback`` table (needs ``survey, score, responded_at``).
    periods
        ``(start, end)`` intervals, e.g. from :func:`retain.analytics.period_grid`.

    Returns
    -------
    ibis.Table
        Columns :data:`SATISFACTION_COLUMNS`, one row per distinct period (also periods without answers), sorted
        by period: answer counts (int64), ``nps`` and ``csat`` (float64 percent, null without answers).
    """
    require_columns(feedback, TableName.FEEDBACK, ("survey", "score", "responded_at"))
    p = periods_table(to_periods(periods))
    f = feedback.filter(feedback.score.notnull() & feedback.survey.isin([NPS_SURVEY, CSAT_SURVEY]))
    j = _in_period(f, "responded_at", p)
    nps, csat = j.survey == NPS_SURVEY, j.survey == CSAT_SURVEY
    agg = j.group_by(list(PERIOD_KEYS)).aggregate(
        nps_answers=j.count(where=nps),
        promoters=j.count(where=nps & (j.score >= 9)),
        passives=j.count(where=nps & j.score.between(7, 8)),
        detractors=j.count(where=nps & (j.score <= 6)),
        csat_answers=j.count(where=csat),
        csat_satisfied=j.count(where=csat & (j.score >= 4)),
    )
    counts = [c for c in SATISFACTION_COLUMNS[2:] if c not in ("nps", "csat")]
    full = _fill_counts(p, agg, counts)
    full = full.mutate(
        nps=_percent(full.promoters - full.detractors, full.nps_answers),
        csat=_percent(full.csat_satisfied, full.csat_answers),
    )
    return full.select(*SATISFACTION_COLUMNS).order_by(list(PERIOD_KEYS))


def survey_responses(feedback: ibis.Table, periods: _PeriodsArg) -> ibis.Table:
    """Number of answers per period and survey.

    Returns
    -------
    ibis.Table
        Columns ``period_start, period_end, survey, responses`` (int64): every period crossed with every survey
        that has at least one answer in any of the periods (0 where a survey had none), sorted by period and
        ``survey``.
    """
    require_columns(feedback, TableName.FEEDBACK, ("survey", "responded_at"))
    p = periods_table(to_periods(periods))
    j = _in_period(feedback, "responded_at", p)
    agg = j.group_by([*PERIOD_KEYS, "survey"]).aggregate(responses=j.count())
    grid = p.cross_join(agg.select("survey").distinct())
    full = left_join(grid, agg, [*PERIOD_KEYS, "survey"])
    full = full.mutate(responses=full.responses.fill_null(0))
    return full.select(*PERIOD_KEYS, "survey", "responses").order_by([*PERIOD_KEYS, "survey"])


def _seconds(ts: ibis.TimestampValue) -> ibis.IntegerValue:
    return ts.epoch_seconds().cast("int64")


def support_summary(tickets: ibis.Table, periods: _PeriodsArg) -> ibis.Table:
    """Support load per period: tickets opened and resolved, time to resolve, backlog, complaints.

    Parameters
    ----------
    tickets
        The canonical ``tickets`` table (needs ``opened_at, resolved_at, is_complaint``).
    periods
        ``(start, end)`` intervals.

    Returns
    -------
    ibis.Table
        Columns :data:`SUPPORT_COLUMNS`, one row per distinct period, sorted by period. See the module docstring.
    """
    require_columns(tickets, TableName.TICKETS, ("opened_at", "resolved_at", "is_complaint"))
    p = periods_table(to_periods(periods))
    t = tickets
    keys = list(PERIOD_KEYS)

    opened = _in_period(t, "opened_at", p)
    opened = opened.group_by(keys).aggregate(
        tickets_opened=opened.count(), complaints=opened.count(where=opened.is_complaint)
    )
    resolved = t.filter(t.resolved_at.notnull())
    resolved = resolved.select(
        "resolved_at", hours=(_seconds(resolved.resolved_at) - _seconds(resolved.opened_at)).cast("float64") / 3600
    )
    resolved = _in_period(resolved, "resolved_at", p)
    resolved_counts = resolved.group_by(keys).aggregate(tickets_resolved=resolved.count())
    medians = exact_median(resolved, "hours", keys, name="median_hours_to_resolve")
    backlog = t.join(p, [t.opened_at <= p.period_end, t.resolved_at.isnull() | (t.resolved_at > p.period_end)])
    backlog = backlog.group_by(keys).aggregate(
        open_at_end=backlog.count(), open_complaints_at_end=backlog.count(where=backlog.is_complaint)
    )

    full = left_join(left_join(left_join(p, opened, keys), resolved_counts, keys), backlog, keys)
    full = left_join(full, medians, keys)
    counts = [c for c in SUPPORT_COLUMNS[2:] if c != "median_hours_to_resolve"]
    full = full.mutate(
        **{c: full[c].fill_null(0) for c in counts},
        median_hours_to_resolve=full.median_hours_to_resolve.round(HOUR_DIGITS),
    )
    return full.select(*SUPPORT_COLUMNS).order_by(keys)


def repeated_unresolved_complaints(
    tickets: ibis.Table, as_of: date | datetime, *, min_count: int = 2, min_days_open: float = 0
) -> ibis.Table:
    """Customers with at least ``min_count`` complaints still unresolved at ``as_of``.

    Parameters
    ----------
    tickets
        The canonical ``tickets`` table (needs ``customer_id, opened_at, resolved_at, is_complaint``).
    as_of
        The instant: a complaint is unresolved when ``opened_at <= as_of`` and ``resolved_at`` is null or after
        ``as_of`` (a resolution recorded later is not known yet).
    min_count
        Minimum number of such complaints (>= 1).
    min_days_open
        Only complaints open for at least this many days at ``as_of`` count (>= 0; 0 counts them all).

    Returns
    -------
    ibis.Table
        Columns :data:`COMPLAINT_COLUMNS`: ``unresolved_complaints`` (int64) and ``oldest_open_days`` (days
        since the oldest counted complaint was opened, 4 decimals). Sorted by most complaints, then oldest, then
        ``customer_id``.

    Raises
    ------
    InputError
        If ``min_count`` is not a whole number >= 1 or ``min_days_open`` is negative.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise InputError(f"min_count must be a whole number >= 1, got {min_count!r} (the default is 2).")
    if isinstance(min_days_open, bool) or not isinstance(min_days_open, int | float) or min_days_open < 0:
        raise InputError(f"min_days_open must be a number of days >= 0, got {min_days_open!r} (the default is 0).")
    require_columns(tickets, TableName.TICKETS, ("customer_id", "opened_at", "resolved_at", "is_complaint"))
    moment = as_instant(as_of)
    t = tickets
    unresolved = t.is_complaint & (t.opened_at <= moment) & (t.resolved_at.isnull() | (t.resolved_at > moment))
    open_seconds = ibis.literal(int(moment.timestamp()), "int64") - _seconds(t.opened_at)
    c = t.filter(unresolved).select("customer_id", open_seconds=open_seconds)
    c = c.filter(c.open_seconds >= ibis.literal(float(min_days_open) * 86_400, "float64"))
    g = c.group_by("customer_id").aggregate(unresolved_complaints=c.count(), _oldest=c.open_seconds.max())
    g = g.filter(g.unresolved_complaints >= min_count)
    g = g.mutate(oldest_open_days=(g._oldest.cast("float64") / 86_400).round(DAY_DIGITS))
    return g.select(*COMPLAINT_COLUMNS).order_by(
        [ibis.desc("unresolved_complaints"), ibis.desc("oldest_open_days"), "customer_id"]
    )
