"""Customer state at instants, and the start/end state of each customer in each period.

Shared by the customer-count metrics (``retention``) and the revenue metrics (``revenue``), so both read
subscriptions with exactly the same notion of "running", "paused" and "MRR at an instant".

The per-period state is computed with one range join of the facts against a small table holding, for every
period, its two boundary instants, followed by one aggregation: few shuffles, which matters on Spark.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import ibis
import pyarrow as pa

from retain.analytics._inputs import require_columns
from retain.analytics.periods import Period, as_instant
from retain.contract import TableName

__all__ = [
    "MRR_DIGITS",
    "PERIOD_KEYS",
    "first_started",
    "instants_table",
    "involuntary_endings",
    "left_join",
    "order_pairs",
    "subscription_pairs",
    "subscription_states",
]

PERIOD_KEYS = ("period_start", "period_end")
PAIR_KEYS = [*PERIOD_KEYS, "customer_id"]
MRR_DIGITS = 6
SUBSCRIPTION_COLUMNS = ("customer_id", "mrr", "started_at", "ended_at", "status")
_TIMESTAMP = pa.timestamp("us", tz="UTC")


def left_join(left: ibis.Table, right: ibis.Table, keys: list[str] | str) -> ibis.Table:
    """Left join on equal-named ``keys``, keeping the left keys once and the right table's other columns."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    joined = left.left_join(right, keys)
    return joined.select(*left.columns, *[c for c in right.columns if c not in keys])


def instants_table(instants: Iterable[date | datetime]) -> ibis.Table:
    """Distinct instants as a memtable with one UTC timestamp column ``at``."""
    values = sorted({as_instant(i) for i in instants})
    return ibis.memtable(pa.table({"at": pa.array(values, _TIMESTAMP)}))


def _boundaries(periods: list[Period], window: timedelta | None = None) -> ibis.Table:
    """Two rows per period: ``side`` ``"s"`` at its start and ``"e"`` at its end (``at``).

    With ``window``, also ``window_start = at − window`` (computed here so no engine-specific interval
    arithmetic is needed).
    """
    rows = [(p, side, at) for p in sorted(set(periods)) for side, at in (("s", p.start), ("e", p.end))]
    data = {
        "period_start": pa.array([p.start for p, _, _ in rows], _TIMESTAMP),
        "period_end": pa.array([p.end for p, _, _ in rows], _TIMESTAMP),
        "side": pa.array([side for _, side, _ in rows], pa.string()),
        "at": pa.array([at for _, _, at in rows], _TIMESTAMP),
    }
    if window is not None:
        data["window_start"] = pa.array([at - window for _, _, at in rows], _TIMESTAMP)
    return ibis.memtable(pa.table(data))


def _flags(g: ibis.Table) -> ibis.Table:
    out = {k: g[k] for k in PAIR_KEYS}
    for x in ("s", "e"):
        active, paused = g[f"n_active_{x}"], g[f"n_paused_{x}"]
        out[f"active_{x}"] = active > 0
        out[f"paused_{x}"] = (active == 0) & (paused > 0)
        out[f"has_pause_{x}"] = paused > 0
        # Rounded so that float noise from summing several periods never shows up as a tiny MRR movement.
        out[f"mrr_{x}"] = g[f"mrr_{x}"].fill_null(0.0).round(MRR_DIGITS)
    return g.select(**out)


def subscription_pairs(subscriptions: ibis.Table, periods: list[Period]) -> ibis.Table:
    """State of each customer at the start and at the end of each period.

    A subscription period runs at ``t`` when ``started_at <= t`` and (``ended_at`` is null or ``t < ended_at``).

    Returns
    -------
    ibis.Table
        One row per period and customer with a running subscription period at its start or its end. Columns
        ``period_start, period_end, customer_id`` and, for ``x`` in ``s`` (start) and ``e`` (end):
        ``active_x`` (a running non-paused period), ``paused_x`` (running ``paused`` periods only),
        ``has_pause_x`` (any running paused period) and ``mrr_x`` (sum of ``mrr`` of running non-paused periods,
        rounded to 6 decimals; a paused period contributes nothing whatever its ``mrr`` says).
    """
    require_columns(subscriptions, TableName.SUBSCRIPTIONS, SUBSCRIPTION_COLUMNS)
    s, b = subscriptions, _boundaries(periods)
    j = s.join(b, [s.started_at <= b.at, s.ended_at.isnull() | (b.at < s.ended_at)])
    is_paused = j.status == "paused"
    aggs = {}
    for x in ("s", "e"):
        on_side = j.side == x
        aggs[f"n_active_{x}"] = j.count(where=on_side & ~is_paused)
        aggs[f"n_paused_{x}"] = j.count(where=on_side & is_paused)
        aggs[f"mrr_{x}"] = j.mrr.sum(where=on_side & ~is_paused)
    return _flags(j.group_by(PAIR_KEYS).aggregate(**aggs))


def order_pairs(orders: ibis.Table, periods: list[Period], activity_window_days: int) -> ibis.Table:
    """Like :func:`subscription_pairs` for a non-contractual business.

    Active at ``t`` means a ``completed`` order with ``t − window < ordered_at <= t``. Nobody is paused and the
    ``mrr_x`` columns are 0.
    """
    require_columns(orders, TableName.ORDERS, ("customer_id", "ordered_at", "status"))
    o = orders.filter(orders.status == "completed")
    b = _boundaries(periods, timedelta(days=activity_window_days))
    j = o.join(b, [o.ordered_at > b.window_start, o.ordered_at <= b.at])
    aggs = {}
    for x in ("s", "e"):
        aggs[f"n_active_{x}"] = j.count(where=j.side == x)
        aggs[f"n_paused_{x}"] = ibis.literal(0, "int64")
        aggs[f"mrr_{x}"] = ibis.literal(0.0, "float64")
    return _flags(j.group_by(PAIR_KEYS).aggregate(**aggs))


def subscription_states(subscriptions: ibis.Table, instants: ibis.Table) -> ibis.Table:
    """State of every customer with a running subscription period at each instant ``at`` of ``instants``.

    Returns columns ``at, customer_id, running_active, running_paused, mrr`` (counts of running non-paused and
    paused periods, and the MRR of the non-paused ones). Customers with no running period have no row.
    """
    require_columns(subscriptions, TableName.SUBSCRIPTIONS, SUBSCRIPTION_COLUMNS)
    s, i = subscriptions, instants
    running = s.join(i, [s.started_at <= i.at, s.ended_at.isnull() | (i.at < s.ended_at)])
    is_paused = running.status == "paused"
    return running.group_by(["at", "customer_id"]).aggregate(
        running_active=running.count(where=~is_paused),
        running_paused=running.count(where=is_paused),
        mrr=running.mrr.sum(where=~is_paused).fill_null(0.0).round(MRR_DIGITS),
    )


def first_started(subscriptions: ibis.Table, *, paid_only: bool) -> ibis.Table:
    """Per customer, when their first non-paused subscription period started (column ``first_at``).

    Zero-length periods (``ended_at == started_at``) never ran and are ignored. With ``paid_only`` only periods
    with ``mrr > 0`` count, i.e. ``first_at`` is when the customer first had MRR.
    """
    s = subscriptions
    ran = (s.status != "paused") & (s.ended_at.isnull() | (s.ended_at > s.started_at))
    if paid_only:
        ran = ran & (s.mrr > 0)
    return s.filter(ran).group_by("customer_id").aggregate(first_at=s.started_at.min())


def involuntary_endings(subscriptions: ibis.Table, periods: ibis.Table) -> ibis.Table:
    """Per period and customer, whether the customer's last subscription period ending in ``(start, end]`` ended
    involuntarily.

    Involuntary means ``churn_type == "involuntary"``, or, when ``churn_type`` is empty,
    ``cancel_reason == "payment_failed"``. If several periods end at that last instant, involuntary wins (a
    deterministic rule, so every engine gives the same answer).

    Returns columns ``period_start, period_end, customer_id, involuntary``.
    """
    s, p = subscriptions, periods
    schema = s.schema()
    churn_type = s.churn_type if "churn_type" in schema else ibis.null("string")
    reason = s.cancel_reason if "cancel_reason" in schema else ibis.null("string")
    invol = ibis.ifelse(churn_type.isnull(), reason.fill_null("") == "payment_failed", churn_type == "involuntary")
    ends = s.select("customer_id", "ended_at", invol=invol)
    j = ends.join(p, [ends.ended_at > p.period_start, ends.ended_at <= p.period_end])
    g = j.group_by(PAIR_KEYS).aggregate(last_end=j.ended_at.max(), last_involuntary_end=j.ended_at.max(where=j.invol))
    return g.select(*PAIR_KEYS, involuntary=(g.last_involuntary_end == g.last_end).fill_null(False))
