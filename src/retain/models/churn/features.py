"""Point-in-time churn features: what was known about each customer at an as-of instant.

``churn_features(tables, as_of=t)`` builds one unexecuted Ibis expression (DuckDB, PySpark or any Ibis backend)
with one row per customer known at ``t``. **Nothing after t is read**: every fact is first cut to what was
visible at ``t`` (:func:`visible_at`):

- events, orders, feedback, customers: rows with their timestamp ``<= t``;
- tickets opened ``<= t``; a ``resolved_at`` after ``t`` is not known yet, so the ticket counts as open and its
  satisfaction rating (given on resolution) as missing;
- subscription periods started ``<= t``; a period ending after ``t`` is still running at ``t``: its
  ``ended_at``, ``cancel_reason`` and ``churn_type`` become null and a ``canceled`` status (the status of the
  period that ends with the cancellation) becomes ``active``. (The contract keeps one status per period, so a
  paused period recorded as ``canceled`` because the customer canceled during the pause looks active before
  its end; record such a pause as its own ``paused`` period.)

Windows are trailing and half-open: "30 days" means ``t − 30 days < time <= t``; "the previous 30 days" means
``t − 60 days < time <= t − 30 days``. Ages are in (fractional) days. Counts are 0 when nothing happened;
ages, ratios and survey scores are null when undefined (LightGBM treats null as its own branch).

Feature adoption reads ``properties`` of ``feature_used`` events with a regular expression for the ``feature``
key: Ibis' JSON extraction runs as a Python UDF on PySpark, while ``re_extract`` runs natively on every engine.
The core features are those any customer used up to ``t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import ibis

from retain.analytics._inputs import require_columns
from retain.analytics._states import instants_table, left_join, subscription_states
from retain.analytics.periods import as_instant
from retain.contract import TABLES, TableName
from retain.errors import InputError

__all__ = [
    "CATEGORICAL_FEATURES",
    "CORE_USAGE",
    "DEFAULT_EVENT_TYPES",
    "WINDOWS_DAYS",
    "churn_features",
    "feature_columns",
    "visible_at",
]

DEFAULT_EVENT_TYPES = ("login", "feature_used", "email_open", "email_click", "page_view", "review", "referral")
"""Event types counted one by one; ``payment_failed`` has its own features (``failed_payments_*``)."""
WINDOWS_DAYS = (7, 30, 90)
CATEGORICAL_FEATURES = ("plan", "acquisition_channel", "country")
"""Text features (LightGBM categoricals); every other feature is numeric."""

_DAY = 86_400.0
_AVG_MONTH_DAYS = 30.4375
_FEATURE_KEY = r'"feature"\s*:\s*"([^"]*)"'
_UTC = "timestamp('UTC')"


def _lit(moment: datetime) -> ibis.Value:
    return ibis.literal(moment, type=_UTC)


def _table(tables: Mapping[str, ibis.Table], name: TableName) -> ibis.Table:
    """The caller's table, or an empty one with the canonical schema when the business has no such facts."""
    table = tables.get(str(name))
    if table is None:
        return ibis.memtable(TABLES[name].arrow_schema.empty_table())
    return table


def visible_at(tables: Mapping[str, ibis.Table], as_of: date | datetime) -> dict[TableName, ibis.Table]:
    """Every canonical table cut to what was known at ``as_of`` (see the module docstring).

    Missing tables are replaced by empty ones with the canonical schema, so callers always get all six.
    """
    unknown = sorted(set(tables) - {str(name) for name in TableName})
    if unknown:
        raise InputError(f"unknown table name(s) {unknown}; valid names: {', '.join(TableName)}.")
    t = _lit(as_instant(as_of))
    c, o, s, e, k, f = (_table(tables, name) for name in TableName)
    require_columns(c, TableName.CUSTOMERS, ("customer_id", "created_at", "country", "acquisition_channel"))
    require_columns(o, TableName.ORDERS, ("customer_id", "ordered_at", "amount", "status", "discount_code"))
    require_columns(
        s,
        TableName.SUBSCRIPTIONS,
        ("customer_id", "plan", "mrr", "started_at", "ended_at", "status", "billing_period_months"),
    )
    require_columns(e, TableName.EVENTS, ("customer_id", "event_type", "occurred_at", "properties"))
    require_columns(
        k, TableName.TICKETS, ("customer_id", "opened_at", "resolved_at", "category", "is_complaint", "satisfaction")
    )
    require_columns(f, TableName.FEEDBACK, ("response_id", "customer_id", "survey", "score", "responded_at"))

    s = s.filter(s.started_at <= t)
    ends_later = s.ended_at.notnull() & (s.ended_at > t)
    subs_now = {
        "ended_at": ibis.ifelse(ends_later, ibis.null(_UTC), s.ended_at),
        "status": ibis.ifelse(ends_later & (s.status == "canceled"), "active", s.status),
    }
    for col in ("cancel_reason", "churn_type"):
        if col in s.columns:
            subs_now[col] = ibis.ifelse(ends_later, ibis.null("string"), s[col])
    k = k.filter(k.opened_at <= t)
    resolved_later = k.resolved_at.notnull() & (k.resolved_at > t)
    return {
        TableName.CUSTOMERS: c.filter(c.created_at <= t),
        TableName.ORDERS: o.filter(o.ordered_at <= t),
        TableName.SUBSCRIPTIONS: s.mutate(**subs_now),
        TableName.EVENTS: e.filter(e.occurred_at <= t),
        TableName.TICKETS: k.mutate(
            resolved_at=ibis.ifelse(resolved_later, ibis.null(_UTC), k.resolved_at),
            satisfaction=ibis.ifelse(resolved_later, ibis.null("int64"), k.satisfaction),
        ),
        TableName.FEEDBACK: f.filter(f.responded_at <= t),
    }


class _Clock:
    """Literals for ``as_of`` and its trailing windows, and ages in days (portable: epoch seconds)."""

    def __init__(self, as_of: datetime) -> None:
        self.at = as_of
        self.t = _lit(as_of)
        self._epoch = int(as_of.timestamp())

    def since(self, days: int) -> ibis.Value:
        return _lit(self.at - timedelta(days=days))

    def within(self, column: ibis.Value, days: int) -> ibis.Value:
        return column > self.since(days)

    def previous(self, column: ibis.Value, days: int) -> ibis.Value:
        """``column`` in the ``days`` before the last ``days`` (``t − 2·days < column <= t − days``)."""
        return (column > self.since(2 * days)) & (column <= self.since(days))

    def age_days(self, column: ibis.Value) -> ibis.Value:
        return (ibis.literal(self._epoch, "int64") - column.epoch_seconds()).cast("float64") / _DAY


CORE_USAGE = ("login", "feature_used")
"""The event types that are use of the product itself (not email opens or page views)."""


def _ratio(numerator: ibis.Value, denominator: ibis.Value) -> ibis.Value:
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)


def _known_customers(v: dict[TableName, ibis.Table], events: ibis.Table) -> ibis.Table:
    """Customers known at ``t`` (the customers table plus anyone named by a fact) and when first seen.

    ``events`` is the per-customer event aggregate (``first_event_at``): the events table is by far the largest,
    so it is scanned once for all event features instead of once more here.
    """
    sources = [
        (v[TableName.CUSTOMERS], "created_at"),
        (v[TableName.ORDERS], "ordered_at"),
        (v[TableName.SUBSCRIPTIONS], "started_at"),
        (events, "first_event_at"),
        (v[TableName.TICKETS], "opened_at"),
        (v[TableName.FEEDBACK], "responded_at"),
    ]
    # Casts align nullability: a union needs identical schemas, and sources differ (Parquet, memtables).
    firsts = [t.select(customer_id=t.customer_id.cast("string"), seen=t[col].cast(_UTC)) for t, col in sources]
    seen = ibis.union(*firsts, distinct=False)
    return seen.group_by("customer_id").aggregate(first_seen=seen.seen.min())


def _event_features(e: ibis.Table, clock: _Clock, event_types: Sequence[str]) -> ibis.Table:
    is_failed = e.event_type == "payment_failed"
    aggs: dict[str, ibis.Value] = {}
    for days in WINDOWS_DAYS:
        aggs[f"events_{days}d"] = e.count(where=clock.within(e.occurred_at, days) & ~is_failed)
        for kind in event_types:
            aggs[f"{kind}_{days}d"] = e.count(where=clock.within(e.occurred_at, days) & (e.event_type == kind))
    aggs["events_prev_30d"] = e.count(where=clock.previous(e.occurred_at, 30) & ~is_failed)
    for kind in event_types:
        aggs[f"{kind}_prev_30d"] = e.count(where=clock.previous(e.occurred_at, 30) & (e.event_type == kind))
    aggs["failed_payments_30d"] = e.count(where=clock.within(e.occurred_at, 30) & is_failed)
    aggs["failed_payments_90d"] = e.count(where=clock.within(e.occurred_at, 90) & is_failed)
    aggs["last_login_at"] = e.occurred_at.max(where=e.event_type == "login")
    aggs["last_event_at"] = e.occurred_at.max(where=~is_failed)
    aggs["features_used"] = e.feature.nunique(where=e.event_type == "feature_used")
    aggs["first_event_at"] = e.occurred_at.min()
    return e.group_by("customer_id").aggregate(**aggs)


def _order_features(o: ibis.Table, clock: _Clock) -> ibis.Table:
    done = o.status == "completed"
    bad = (o.status == "refunded") | (o.status == "canceled")
    counted = o.status != "canceled"  # refunds carry negative amounts and reduce revenue
    return o.group_by("customer_id").aggregate(
        orders=o.count(where=done),
        orders_90d=o.count(where=done & clock.within(o.ordered_at, 90)),
        orders_prev_90d=o.count(where=done & clock.previous(o.ordered_at, 90)),
        revenue=o.amount.sum(where=counted),
        revenue_90d=o.amount.sum(where=counted & clock.within(o.ordered_at, 90)),
        completed_amount=o.amount.sum(where=done),
        discounted_orders=o.count(where=done & o.discount_code.notnull()),
        bad_orders_30d=o.count(where=bad & clock.within(o.ordered_at, 30)),
        bad_orders_90d=o.count(where=bad & clock.within(o.ordered_at, 90)),
        first_order_at=o.ordered_at.min(where=done),
        last_order_at=o.ordered_at.max(where=done),
    )


def _ticket_features(k: ibis.Table, clock: _Clock) -> ibis.Table:
    is_open = k.resolved_at.isnull()
    complaint = k.is_complaint.fill_null(False)
    in90 = clock.within(k.opened_at, 90)
    return k.group_by("customer_id").aggregate(
        tickets=k.count(),
        tickets_30d=k.count(where=clock.within(k.opened_at, 30)),
        tickets_90d=k.count(where=in90),
        complaints=k.count(where=complaint),
        complaints_30d=k.count(where=complaint & clock.within(k.opened_at, 30)),
        complaints_90d=k.count(where=complaint & in90),
        open_tickets=k.count(where=is_open),
        open_complaints=k.count(where=is_open & complaint),
        oldest_open_complaint_at=k.opened_at.min(where=is_open & complaint),
        # Tickets about a topic the customer already raised in the last 90 days.
        categorised_90d=k.count(where=in90 & k.category.notnull()),
        categories_90d=k.category.nunique(where=in90),
        ticket_satisfaction=k.satisfaction.mean(),
        last_ticket_at=k.opened_at.max(),
    )


def _survey_features(f: ibis.Table) -> ibis.Table:
    f = f.filter(f.survey.isin(["nps", "csat"]) & f.score.notnull())
    order = [ibis.desc(f.responded_at), ibis.desc(f.response_id)]
    f = f.mutate(recency=ibis.row_number().over(group_by=[f.customer_id, f.survey], order_by=order))
    f = f.filter(f.recency <= 1)
    aggs = {}
    for survey in ("nps", "csat"):
        aggs[f"{survey}_latest"] = f.score.max(where=(f.survey == survey) & (f.recency == 0))
        aggs[f"{survey}_previous"] = f.score.max(where=(f.survey == survey) & (f.recency == 1))
        aggs[f"{survey}_at"] = f.responded_at.max(where=f.survey == survey)
    return f.group_by("customer_id").aggregate(**aggs)


def _subscription_features(s: ibis.Table, clock: _Clock) -> ibis.Table:
    running = s.ended_at.isnull()  # after visible_at, exactly the periods running at t
    periods = s.group_by("customer_id").aggregate(
        subscription_periods=s.count(),
        pauses=s.count(where=s.status == "paused"),
        first_subscribed_at=s.started_at.min(),
    )
    # The latest running period says the plan and billing cycle now.
    cur = s.filter(running)
    latest = ibis.row_number().over(group_by=cur.customer_id, order_by=[ibis.desc(cur.started_at), ibis.desc(cur.plan)])
    cur = cur.mutate(rank=latest).filter(lambda x: x.rank == 0)
    cur = cur.select("customer_id", "plan", "billing_period_months", period_started_at=cur.started_at)
    ago = clock.at - timedelta(days=90)
    states = subscription_states(s, instants_table([clock.at, ago]))
    is_now = states.at == clock.t
    now = states.group_by("customer_id").aggregate(
        running_active=states.running_active.max(where=is_now),
        running_paused=states.running_paused.max(where=is_now),
        mrr=states.mrr.max(where=is_now),
        mrr_90d_ago=states.mrr.max(where=~is_now),
    )
    return left_join(left_join(periods, cur, "customer_id"), now, "customer_id")


def _profile_features(c: ibis.Table) -> ibis.Table:
    # One row per customer even if the dimension holds several versions: the latest wins.
    latest = ibis.row_number().over(group_by=c.customer_id, order_by=ibis.desc(c.created_at))
    c = c.mutate(version=latest).filter(lambda x: x.version == 0)
    return c.select("customer_id", "acquisition_channel", "country")


def _core_features(e: ibis.Table) -> ibis.Table:
    used = e.filter(e.event_type == "feature_used")
    return used.aggregate(core_features=used.feature.nunique())


def churn_features(
    tables: Mapping[str, ibis.Table],
    *,
    as_of: date | datetime,
    event_types: Sequence[str] = DEFAULT_EVENT_TYPES,
) -> ibis.Table:
    """Churn features of every customer known at ``as_of``, reading nothing after it.

    Parameters
    ----------
    tables : Mapping[str, ibis.Table]
        Canonical tables by name (``customers``, ``orders``, ``subscriptions``, ``events``, ``tickets``,
        ``feedback``); missing ones count as empty (a shop has no subscriptions).
    as_of : date or datetime
        The instant the features describe (a date means midnight UTC).
    event_types : sequence of str
        Event types counted one by one (columns ``<type>_<7|30|90>d`` and ``<type>_trend``).

    Returns
    -------
    ibis.Table
        One row per customer: ``customer_id`` then the columns of :func:`feature_columns` (``plan``,
        ``acquisition_channel`` and ``country`` are text, every other feature is numeric).

    Raises
    ------
    InputError
        On an unknown table name, a missing canonical column or a timestamp column that is not a timestamp.
    """
    kinds = [str(kind) for kind in event_types]
    if "payment_failed" in kinds or len(set(kinds)) != len(kinds):
        raise InputError(
            f"event_types must be distinct and must not include payment_failed (it has its own features); got {kinds}."
        )
    clock = _Clock(as_instant(as_of))
    v = visible_at(tables, clock.at)
    e = v[TableName.EVENTS]
    is_feature = e.event_type == "feature_used"
    e = e.mutate(feature=ibis.ifelse(is_feature, e.properties.re_extract(_FEATURE_KEY, 1).nullif(""), None))

    events = _event_features(e, clock, kinds)
    j = _known_customers(v, events)
    for block in (
        _profile_features(v[TableName.CUSTOMERS]),
        events,
        _order_features(v[TableName.ORDERS], clock),
        _ticket_features(v[TableName.TICKETS], clock),
        _survey_features(v[TableName.FEEDBACK]),
        _subscription_features(v[TableName.SUBSCRIPTIONS], clock),
    ):
        j = left_join(j, block, "customer_id")
    j = j.cross_join(_core_features(e))
    # A fixed row order: models (their cross-validation folds) depend on it, and engines return rows in any order.
    return j.select("customer_id", **_finish(j, clock, kinds)).order_by("customer_id")


def _finish(j: ibis.Table, clock: _Clock, kinds: list[str]) -> dict[str, ibis.Value]:
    """The output columns, in :func:`feature_columns` order, from the joined blocks."""

    def n(col: str) -> ibis.Value:
        return j[col].fill_null(0)

    out: dict[str, ibis.Value] = {"tenure_days": clock.age_days(j.first_seen)}
    for days in WINDOWS_DAYS:
        out[f"events_{days}d"] = n(f"events_{days}d")
        for kind in kinds:
            out[f"{kind}_{days}d"] = n(f"{kind}_{days}d")
    out["events_trend"] = _ratio(n("events_30d"), n("events_prev_30d"))
    for kind in kinds:
        out[f"{kind}_trend"] = _ratio(n(f"{kind}_30d"), n(f"{kind}_prev_30d"))
    # Last 30 days against the average month of the 60 days before (a slower trend).
    out["events_trend_90d"] = _ratio(n("events_30d") * 2, n("events_90d") - n("events_30d"))
    # Core product use (logins and feature uses) on a log scale, last 30 days against the average month of the 60
    # before: defined when nothing came before (unlike a ratio), and a drop from 3 to 0 weighs less than from 40.
    core = [kind for kind in CORE_USAGE if kind in kinds] or ["events"]
    recent, before = sum(n(f"{k}_30d") for k in core), sum(n(f"{k}_90d") - n(f"{k}_30d") for k in core)
    out["usage_trend_90d"] = (recent.cast("float64") + 1).ln() - (before.cast("float64") / 2 + 1).ln()
    out["days_since_last_login"] = clock.age_days(j.last_login_at)
    out["days_since_last_event"] = clock.age_days(j.last_event_at)
    out["days_since_last_order"] = clock.age_days(j.last_order_at)
    out["days_since_last_ticket"] = clock.age_days(j.last_ticket_at)
    out["orders"] = n("orders")
    out["orders_90d"] = n("orders_90d")
    out["revenue"] = j.revenue.fill_null(0.0)
    out["revenue_90d"] = j.revenue_90d.fill_null(0.0)
    out["aov"] = _ratio(j.completed_amount, j.orders)
    out["discount_share"] = _ratio(j.discounted_orders, j.orders)
    out["bad_orders_30d"] = n("bad_orders_30d")
    out["bad_orders_90d"] = n("bad_orders_90d")
    out["orders_prev_90d"] = n("orders_prev_90d")
    # The customer's own rhythm: the average gap between their completed orders (null with fewer than two).
    span = clock.age_days(j.first_order_at) - clock.age_days(j.last_order_at)
    out["typical_order_gap_days"] = _ratio(span, n("orders") - 1)
    for col in ("tickets", "tickets_30d", "tickets_90d", "complaints", "complaints_30d", "complaints_90d"):
        out[col] = n(col)
    out["open_tickets"] = n("open_tickets")
    out["open_complaints"] = n("open_complaints")
    out["oldest_open_complaint_days"] = clock.age_days(j.oldest_open_complaint_at)
    out["repeated_tickets_90d"] = n("categorised_90d") - n("categories_90d")
    out["ticket_satisfaction"] = j.ticket_satisfaction
    for survey in ("nps", "csat"):
        latest = j[f"{survey}_latest"]
        out[f"{survey}_latest"] = latest.cast("float64")
        out[f"{survey}_change"] = (latest - j[f"{survey}_previous"]).cast("float64")
        out[f"days_since_{survey}"] = clock.age_days(j[f"{survey}_at"])
    out["failed_payments_30d"] = n("failed_payments_30d")
    out["failed_payments_90d"] = n("failed_payments_90d")
    out["plan"] = j.plan
    out["subscribed"] = (n("running_active") + n("running_paused")) > 0
    out["paused"] = (n("running_active") == 0) & (n("running_paused") > 0)
    out["mrr"] = j.mrr.fill_null(0.0)
    out["mrr_change_90d"] = j.mrr.fill_null(0.0) - j.mrr_90d_ago.fill_null(0.0)
    out["pauses"] = n("pauses")
    out["subscription_periods"] = n("subscription_periods")
    out["subscription_days"] = clock.age_days(j.first_subscribed_at)
    out["days_in_period"] = clock.age_days(j.period_started_at)
    out["billing_period_months"] = j.billing_period_months.cast("float64")
    # Renewals fall every billing_period_months after the period start (average month lengths: ±2 days).
    cycle = j.billing_period_months.fill_null(1).cast("float64") * _AVG_MONTH_DAYS
    out["days_to_renewal"] = cycle - (clock.age_days(j.period_started_at) % cycle)
    out["features_used"] = n("features_used")
    out["features_never_used"] = j.core_features.fill_null(0) - n("features_used")
    out["acquisition_channel"] = j.acquisition_channel
    out["country"] = j.country
    return out


def feature_columns(event_types: Sequence[str] = DEFAULT_EVENT_TYPES) -> list[str]:
    """Names of the feature columns :func:`churn_features` returns (after ``customer_id``), in order."""
    empty = {str(name): ibis.table(ibis.schema(TABLES[name].arrow_schema), name=str(name)) for name in TableName}
    return [c for c in churn_features(empty, as_of=date(2000, 1, 1), event_types=event_types).columns][1:]
