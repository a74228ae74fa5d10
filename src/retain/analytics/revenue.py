"""Revenue metrics of a subscription business: MRR, MRR movements, GRR, NRR, ARPA, revenue churn.

**MRR at instant t** is the sum of ``mrr`` over the customer's subscription periods running at ``t``
(``started_at <= t`` and ``ended_at`` null or later than ``t``) that are not ``paused`` (a paused period
contributes nothing, whatever its ``mrr`` says). Per customer it is rounded to 6 decimals, so float noise from
summing several periods never appears as a movement.

**MRR movements of a period** ``[start, end)`` compare each customer's MRR at the instant ``start`` with their
MRR at the instant ``end`` (the start of the next period of a grid). Every customer whose MRR differs is
classified exactly once:

================ ===================================================================================
movement         rule (``s`` = MRR at start, ``e`` = MRR at end)
================ ===================================================================================
``new``          ``s == 0 < e``, never had MRR before ``start``, not paused at ``start``
``reactivation`` ``s == 0 < e``, had MRR before ``start`` (a customer returning after churning)
``resumed``      ``s == 0 < e``, paused at ``start`` (coming back from a pause; checked first)
``expansion``    ``0 < s < e`` (upgrade, more seats, an extra subscription)
``contraction``  ``0 < e < s`` (downgrade)
``churned``      ``s > 0 == e`` and no paused period running at ``end`` (the subscription ended, or moved
                 to a free plan)
``paused``       ``s > 0 == e`` because a ``paused`` period runs at ``end`` (a pause is not churn)
================ ===================================================================================

Movements inside a period that cancel out (a customer who starts and leaves within the period, or upgrades and
downgrades back) are invisible, as with any start/end comparison; use shorter periods to see them.

**Totals** (all MRR amounts are positive magnitudes)::

    ending = starting + new + expansion + reactivation + resumed − contraction − churned − paused
    GRR = 100 × (starting − contraction − churned − paused) / starting
    NRR = 100 × (starting + expansion − contraction − churned − paused) / starting
    revenue_churn_rate = 100 × (contraction + churned + paused) / starting = 100 − GRR

GRR and NRR follow the customers who had MRR at the start: NRR is the MRR those customers bring at the end,
as a share of what they brought at the start, and GRR the same with each customer capped at their starting MRR.
**Pauses count as lost revenue** in GRR, NRR and revenue churn (the revenue is really not coming in, and a
customer who resumes is counted as ``resumed`` revenue later, just like a reactivation). ``paused_mrr`` is
reported on its own, so a pause-neutral view is ``GRR + 100 × paused / starting``.
ARPA is the ending MRR per paying account (customers with MRR > 0 at ``end``). Rates are percentages and null
when the denominator is 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

import ibis

from retain.analytics._states import (
    PERIOD_KEYS,
    first_started,
    instants_table,
    left_join,
    subscription_pairs,
    subscription_states,
)
from retain.analytics.periods import as_instant, periods_table, to_periods

__all__ = [
    "MOVEMENT_COLUMNS",
    "SUMMARY_COLUMNS",
    "MrrMovement",
    "customer_mrr",
    "mrr_at",
    "mrr_movements",
    "mrr_summary",
]


class MrrMovement(StrEnum):
    """How a customer's MRR moved over a period (see the module docstring for the rules)."""

    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURNED = "churned"
    REACTIVATION = "reactivation"
    PAUSED = "paused"
    RESUMED = "resumed"


MOVEMENT_COLUMNS = ("period_start", "period_end", "customer_id", "movement", "mrr_start", "mrr_end", "mrr_change")
"""Columns of :func:`mrr_movements`, in order."""

SUMMARY_COLUMNS = (
    "period_start",
    "period_end",
    "starting_mrr",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "resumed_mrr",
    "contraction_mrr",
    "churned_mrr",
    "paused_mrr",
    "ending_mrr",
    "net_mrr_change",
    "starting_customers",
    "ending_customers",
    "new_customers",
    "expansion_customers",
    "reactivated_customers",
    "resumed_customers",
    "contraction_customers",
    "churned_customers",
    "paused_customers",
    "grr",
    "nrr",
    "revenue_churn_rate",
    "arpa",
)
"""Columns of :func:`mrr_summary`, in order."""

_HUNDRED = ibis.literal(100.0, "float64")


def customer_mrr(subscriptions: ibis.Table, at: date | datetime) -> ibis.Table:
    """MRR of every customer with a running, non-paused subscription period at instant ``at``.

    Returns
    -------
    ibis.Table
        Columns ``customer_id``, ``mrr`` (float64; 0 for a free plan), sorted by ``customer_id``.
    """
    s = subscription_states(subscriptions, instants_table([as_instant(at)]))
    return s.filter(s.running_active > 0).select("customer_id", "mrr").order_by("customer_id")


def mrr_at(subscriptions: ibis.Table, at: date | datetime) -> ibis.Scalar:
    """Total MRR at instant ``at`` (a float64 scalar expression; 0.0 when nobody pays)."""
    return customer_mrr(subscriptions, at).mrr.sum().fill_null(0.0)


def _classified(subscriptions: ibis.Table, plist) -> ibis.Table:
    """Every (period, customer) pair with MRR at start or end, with its movement (null when unchanged)."""
    pairs = subscription_pairs(subscriptions, plist)
    first = first_started(subscriptions, paid_only=True)
    j = left_join(pairs, first, "customer_id")
    s, e = j.mrr_s, j.mrr_e
    had_mrr_before = (j.first_at < j.period_start).fill_null(False)
    arrived = (s == 0) & (e > 0)
    gone = (s > 0) & (e == 0)
    movement = ibis.cases(
        (arrived & j.has_pause_s, MrrMovement.RESUMED.value),
        (arrived & had_mrr_before, MrrMovement.REACTIVATION.value),
        (arrived, MrrMovement.NEW.value),
        ((s > 0) & (e > s), MrrMovement.EXPANSION.value),
        ((e > 0) & (e < s), MrrMovement.CONTRACTION.value),
        (gone & j.has_pause_e, MrrMovement.PAUSED.value),
        (gone, MrrMovement.CHURNED.value),
        else_=ibis.null("string"),
    )
    return j.select(*PERIOD_KEYS, "customer_id", movement=movement, mrr_start=s, mrr_end=e, mrr_change=e - s)


def mrr_movements(subscriptions: ibis.Table, periods: Iterable[tuple[date | datetime, date | datetime]]) -> ibis.Table:
    """MRR movement of each customer in each period, one row per customer whose MRR changed.

    Parameters
    ----------
    subscriptions
        The canonical ``subscriptions`` table (needs ``customer_id, mrr, started_at, ended_at, status``).
    periods
        ``(start, end)`` intervals, e.g. from :func:`retain.analytics.period_grid`.

    Returns
    -------
    ibis.Table
        Unexecuted expression with columns :data:`MOVEMENT_COLUMNS`: ``movement`` is a :class:`MrrMovement`
        value, ``mrr_change = mrr_end − mrr_start`` (signed). Sorted by period, then ``customer_id``.
    """
    c = _classified(subscriptions, to_periods(periods))
    return c.filter(c.movement.notnull()).select(*MOVEMENT_COLUMNS).order_by([*PERIOD_KEYS, "customer_id"])


def mrr_summary(subscriptions: ibis.Table, periods: Iterable[tuple[date | datetime, date | datetime]]) -> ibis.Table:
    """MRR totals per period: starting/ending MRR, each movement, GRR, NRR, revenue churn and ARPA.

    Parameters
    ----------
    subscriptions
        The canonical ``subscriptions`` table.
    periods
        ``(start, end)`` intervals, e.g. from :func:`retain.analytics.period_grid`.

    Returns
    -------
    ibis.Table
        Unexecuted expression with columns :data:`SUMMARY_COLUMNS`, one row per distinct period (also periods
        without revenue), sorted by period. MRR amounts are float64 and positive (``contraction_mrr``,
        ``churned_mrr`` and ``paused_mrr`` are magnitudes); ``*_customers`` are int64 counts of customers
        (``starting_customers``/``ending_customers`` count paying accounts, MRR > 0); ``grr``, ``nrr`` and
        ``revenue_churn_rate`` are percentages; ``arpa`` is ending MRR per paying account. The identity
        ``ending = starting + new + expansion + reactivation + resumed − contraction − churned − paused`` holds
        up to float rounding.
    """
    plist = to_periods(periods)
    c = _classified(subscriptions, plist)

    def amount(kind: MrrMovement):
        return c.mrr_change.abs().sum(where=c.movement == kind.value)

    def count(kind: MrrMovement):
        return c.count(where=c.movement == kind.value)

    agg = c.group_by(list(PERIOD_KEYS)).aggregate(
        starting_mrr=c.mrr_start.sum(),
        new_mrr=amount(MrrMovement.NEW),
        expansion_mrr=amount(MrrMovement.EXPANSION),
        reactivation_mrr=amount(MrrMovement.REACTIVATION),
        resumed_mrr=amount(MrrMovement.RESUMED),
        contraction_mrr=amount(MrrMovement.CONTRACTION),
        churned_mrr=amount(MrrMovement.CHURNED),
        paused_mrr=amount(MrrMovement.PAUSED),
        ending_mrr=c.mrr_end.sum(),
        starting_customers=c.count(where=c.mrr_start > 0),
        ending_customers=c.count(where=c.mrr_end > 0),
        new_customers=count(MrrMovement.NEW),
        expansion_customers=count(MrrMovement.EXPANSION),
        reactivated_customers=count(MrrMovement.REACTIVATION),
        resumed_customers=count(MrrMovement.RESUMED),
        contraction_customers=count(MrrMovement.CONTRACTION),
        churned_customers=count(MrrMovement.CHURNED),
        paused_customers=count(MrrMovement.PAUSED),
    )
    p = periods_table(plist)
    full = left_join(p, agg, list(PERIOD_KEYS))
    filled = {
        col: full[col].fill_null(0.0 if col.endswith("_mrr") else 0)
        for col in SUMMARY_COLUMNS[2:]
        if col.endswith(("_mrr", "_customers"))
    }
    full = full.select(*PERIOD_KEYS, **filled)
    start = full.starting_mrr.nullif(0.0)
    lost = full.contraction_mrr + full.churned_mrr + full.paused_mrr
    full = full.mutate(
        net_mrr_change=full.ending_mrr - full.starting_mrr,
        grr=_HUNDRED * (full.starting_mrr - lost) / start,
        nrr=_HUNDRED * (full.starting_mrr + full.expansion_mrr - lost) / start,
        revenue_churn_rate=_HUNDRED * lost / start,
        arpa=full.ending_mrr / full.ending_customers.cast("float64").nullif(0.0),
    )
    return full.select(*SUMMARY_COLUMNS).order_by(list(PERIOD_KEYS))
