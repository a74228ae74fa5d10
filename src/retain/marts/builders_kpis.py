"""Builders of the KPI marts: retention series, MRR movements and summary, commerce, satisfaction, support."""

from __future__ import annotations

import pyarrow as pa

from retain.analytics.commerce import COMMERCE_COLUMNS, commerce_summary
from retain.analytics.periods import Freq
from retain.analytics.retention import SERIES_COLUMNS, retention_series, retention_series_orders
from retain.analytics.revenue import MOVEMENT_COLUMNS, SUMMARY_COLUMNS, mrr_movements, mrr_summary
from retain.analytics.satisfaction import SATISFACTION_COLUMNS, SUPPORT_COLUMNS, satisfaction_summary, support_summary
from retain.contract.business_model import BusinessModel
from retain.contract.tables import TableName
from retain.marts._series import SERIES_EXTRA, SERIES_GRAIN, per_freq
from retain.marts.context import RefreshContext
from retain.marts.registry import MartName, register

__all__: list[str] = []  # builders register themselves; nothing to import from here

_SUBS, _ORDERS = TableName.SUBSCRIPTIONS, TableName.ORDERS


def _skip(ctx: RefreshContext, name: MartName, reason: str) -> None:
    ctx.skip_reasons[str(name)] = reason


@register(
    MartName.RETENTION,
    "customer retention and churn per month, quarter and year",
    grain=SERIES_GRAIN,
    columns=(*SERIES_COLUMNS, *SERIES_EXTRA),
)
def _retention(ctx: RefreshContext) -> pa.Table | None:
    if ctx.model is BusinessModel.SUBSCRIPTION:
        subs = ctx.table(_SUBS)
        return per_freq(ctx, lambda periods: retention_series(subs, periods))
    if not ctx.has(_ORDERS):
        _skip(ctx, MartName.RETENTION, "no subscriptions and no orders")
        return None
    orders = ctx.table(_ORDERS)
    return per_freq(ctx, lambda periods: retention_series_orders(orders, periods, ctx.activity_window_days))


@register(
    MartName.MRR_MOVEMENTS,
    "MRR movement of each customer whose MRR changed, per month",
    grain=("period_start", "period_end", "customer_id"),
    columns=MOVEMENT_COLUMNS,
)
def _mrr_movements(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_SUBS):
        _skip(ctx, MartName.MRR_MOVEMENTS, "no subscriptions (MRR needs the subscriptions table)")
        return None
    periods = ctx.periods(Freq.MONTH)
    if not periods:
        _skip(ctx, MartName.MRR_MOVEMENTS, "no reporting period")
        return None
    return ctx.execute(mrr_movements(ctx.table(_SUBS), periods))


@register(
    MartName.MRR_SUMMARY,
    "MRR totals, movements, GRR, NRR, ARPA per month, quarter and year",
    grain=SERIES_GRAIN,
    columns=(*SUMMARY_COLUMNS, *SERIES_EXTRA),
)
def _mrr_summary(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_SUBS):
        _skip(ctx, MartName.MRR_SUMMARY, "no subscriptions (MRR needs the subscriptions table)")
        return None
    subs = ctx.table(_SUBS)
    return per_freq(ctx, lambda periods: mrr_summary(subs, periods))


@register(
    MartName.COMMERCE,
    "revenue, orders, AOV, purchase frequency, repeat rate per month, quarter and year",
    grain=SERIES_GRAIN,
    columns=(*COMMERCE_COLUMNS, *SERIES_EXTRA),
)
def _commerce(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_ORDERS):
        _skip(ctx, MartName.COMMERCE, "no orders")
        return None
    orders = ctx.table(_ORDERS)
    return per_freq(ctx, lambda periods: commerce_summary(orders, periods))


@register(
    MartName.SATISFACTION,
    "NPS and CSAT per month, quarter and year",
    grain=SERIES_GRAIN,
    columns=(*SATISFACTION_COLUMNS, *SERIES_EXTRA),
)
def _satisfaction(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(TableName.FEEDBACK):
        _skip(ctx, MartName.SATISFACTION, "no feedback (survey answers)")
        return None
    feedback = ctx.table(TableName.FEEDBACK)
    return per_freq(ctx, lambda periods: satisfaction_summary(feedback, periods))


@register(
    MartName.SUPPORT,
    "support tickets opened/resolved, time to resolve, backlog per month, quarter and year",
    grain=SERIES_GRAIN,
    columns=(*SUPPORT_COLUMNS, *SERIES_EXTRA),
)
def _support(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(TableName.TICKETS):
        _skip(ctx, MartName.SUPPORT, "no tickets")
        return None
    tickets = ctx.table(TableName.TICKETS)
    return per_freq(ctx, lambda periods: support_summary(tickets, periods))
