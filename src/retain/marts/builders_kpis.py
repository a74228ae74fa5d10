"""Builders of the KPI marts: retention series, MRR movements and summary, commerce, satisfaction, support."""

from __future__ import annotations

import pyarrow as pa

from retain.analytics.commerce import commerce_summary
from retain.analytics.periods import Freq
from retain.analytics.retention import retention_series, retention_series_orders
from retain.analytics.revenue import mrr_movements, mrr_summary
from retain.analytics.satisfaction import satisfaction_summary, support_summary
from retain.contract.business_model import BusinessModel
from retain.contract.tables import TableName
from retain.marts._series import per_freq
from retain.marts.context import RefreshContext
from retain.marts.registry import MartName, register

__all__: list[str] = []  # builders register themselves; nothing to import from here

_SUBS, _ORDERS = TableName.SUBSCRIPTIONS, TableName.ORDERS


def _skip(ctx: RefreshContext, name: MartName, reason: str) -> None:
    ctx.skip_reasons[str(name)] = reason


@register(MartName.RETENTION, "customer retention and churn per month, quarter and year")
def _retention(ctx: RefreshContext) -> pa.Table | None:
    if ctx.model is BusinessModel.SUBSCRIPTION:
        subs = ctx.table(_SUBS)
        return per_freq(ctx, lambda periods: retention_series(subs, periods))
    if not ctx.has(_ORDERS):
        _skip(ctx, MartName.RETENTION, "no subscriptions and no orders")
        return None
    orders = ctx.table(_ORDERS)
    return per_freq(ctx, lambda periods: retention_series_orders(orders, periods, ctx.activity_window_days))


@register(MartName.MRR_MOVEMENTS, "MRR movement of each customer whose MRR changed, per month")
def _mrr_movements(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_SUBS):
        _skip(ctx, MartName.MRR_MOVEMENTS, "no subscriptions (MRR needs the subscriptions table)")
        return None
    periods = ctx.periods(Freq.MONTH)
    if not periods:
        _skip(ctx, MartName.MRR_MOVEMENTS, "no reporting period")
        return None
    return ctx.execute(mrr_movements(ctx.table(_SUBS), periods))


@register(MartName.MRR_SUMMARY, "MRR totals, movements, GRR, NRR, ARPA per month, quarter and year")
def _mrr_summary(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_SUBS):
        _skip(ctx, MartName.MRR_SUMMARY, "no subscriptions (MRR needs the subscriptions table)")
        return None
    subs = ctx.table(_SUBS)
    return per_freq(ctx, lambda periods: mrr_summary(subs, periods))


@register(MartName.COMMERCE, "revenue, orders, AOV, purchase frequency, repeat rate per month, quarter and year")
def _commerce(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_ORDERS):
        _skip(ctx, MartName.COMMERCE, "no orders")
        return None
    orders = ctx.table(_ORDERS)
    return per_freq(ctx, lambda periods: commerce_summary(orders, periods))


@register(MartName.SATISFACTION, "NPS and CSAT per month, quarter and year")
def _satisfaction(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(TableName.FEEDBACK):
        _skip(ctx, MartName.SATISFACTION, "no feedback (survey answers)")
        return None
    feedback = ctx.table(TableName.FEEDBACK)
    return per_freq(ctx, lambda periods: satisfaction_summary(feedback, periods))


@register(MartName.SUPPORT, "support tickets opened/resolved, time to resolve, backlog per month, quarter and year")
def _support(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(TableName.TICKETS):
        _skip(ctx, MartName.SUPPORT, "no tickets")
        return None
    tickets = ctx.table(TableName.TICKETS)
    return per_freq(ctx, lambda periods: support_summary(tickets, periods))
