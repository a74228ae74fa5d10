"""Builders of the per-customer marts: cohorts, RFM, lifecycle states and flows, profiles, segment membership."""

from __future__ import annotations

import pyarrow as pa

from retain.analytics.cohorts import CohortMeasure, cohort_matrix, order_cohort_matrix
from retain.analytics.lifecycle import FLOW_COLUMNS, lifecycle_flows, lifecycle_states
from retain.analytics.periods import Freq
from retain.analytics.profile import customer_profiles
from retain.analytics.rfm import RFM_COLUMNS, rfm_scores
from retain.analytics.segments import MEMBERSHIP_COLUMNS, evaluate_segments
from retain.contract.business_model import BusinessModel
from retain.contract.profile import PROFILE
from retain.contract.tables import TableName
from retain.marts.builders_risk import join_risk
from retain.marts.context import RefreshContext
from retain.marts.registry import MartName, register

__all__: list[str] = []  # the builders register themselves

_ORDERS, _SUBS = TableName.ORDERS, TableName.SUBSCRIPTIONS


def _lifecycle_inputs(ctx: RefreshContext) -> dict | None:
    if not ctx.has(_ORDERS, _SUBS):
        return None
    return {"orders": ctx.table(_ORDERS), "subscriptions": ctx.table(_SUBS)}


@register(
    MartName.COHORTS,
    "monthly signup cohorts: logo and revenue retention by age, as values and shares",
    grain=("cohort", "age", "measure"),
    columns=("cohort", "age", "value", "cohort_size", "share", "measure"),
)
def _cohorts(ctx: RefreshContext) -> pa.Table | None:
    if ctx.model is BusinessModel.SUBSCRIPTION:
        table, matrix = ctx.table(TableName.SUBSCRIPTIONS), cohort_matrix
    elif ctx.has(_ORDERS):
        table, matrix = ctx.table(_ORDERS), order_cohort_matrix
    else:
        ctx.skip_reasons[str(MartName.COHORTS)] = "no subscriptions and no orders"
        return None
    parts = []
    for measure in CohortMeasure:
        m = matrix(table, as_of=ctx.as_of, freq=Freq.MONTH, measure=measure)
        value = next(c for c in m.columns if c not in ("cohort", "age", "cohort_size", "share"))
        m = m.select(
            "cohort", "age", value=m[value].cast("float64"), cohort_size=m.cohort_size.cast("float64"), share=m.share
        )
        result = ctx.execute(m)
        parts.append(result.append_column("measure", pa.array([measure.value] * result.num_rows, pa.string())))
    return pa.concat_tables(parts)


@register(
    MartName.RFM,
    "recency, frequency, monetary scores 1-5 and named segment per customer at as_of",
    grain=("customer_id",),
    columns=RFM_COLUMNS,
)
def _rfm(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_ORDERS):
        ctx.skip_reasons[str(MartName.RFM)] = "no orders (RFM scores purchases)"
        return None
    return ctx.execute(rfm_scores(ctx.table(_ORDERS), as_of=ctx.as_of))


@register(
    MartName.LIFECYCLE,
    "lifecycle state of every customer at as_of (new, active, at risk, churned...)",
    grain=("customer_id",),
    columns=("customer_id", "state"),
)
def _lifecycle(ctx: RefreshContext) -> pa.Table | None:
    inputs = _lifecycle_inputs(ctx)
    if inputs is None:
        ctx.skip_reasons[str(MartName.LIFECYCLE)] = "no orders and no subscriptions"
        return None
    return ctx.execute(lifecycle_states(**inputs, as_of=ctx.as_of, activity_window_days=ctx.activity_window_days))


@register(
    MartName.LIFECYCLE_FLOWS,
    "customers moving between lifecycle states, per month",
    grain=("period_start", "period_end", "from_state", "to_state"),
    columns=FLOW_COLUMNS,
)
def _lifecycle_flows(ctx: RefreshContext) -> pa.Table | None:
    inputs = _lifecycle_inputs(ctx)
    periods = ctx.periods(Freq.MONTH)
    if inputs is None or not periods:
        ctx.skip_reasons[str(MartName.LIFECYCLE_FLOWS)] = "no orders and no subscriptions, or no full period"
        return None
    flows = lifecycle_flows(**inputs, periods=periods, activity_window_days=ctx.activity_window_days)
    return ctx.execute(flows)


@register(
    MartName.PROFILES,
    "the customer 360: one profile row per customer at as_of, risk columns included",
    grain=("customer_id",),
    columns=tuple(PROFILE.names),
)
def _profiles(ctx: RefreshContext) -> pa.Table | None:
    expr = customer_profiles(ctx.tables, as_of=ctx.as_of, activity_window_days=ctx.activity_window_days)
    return join_risk(ctx, ctx.execute(expr))  # every column of the profile spec, whether or not a model exists


@register(
    MartName.SEGMENT_MEMBERSHIP,
    "customers of each user-defined segment (settings [segments])",
    grain=MEMBERSHIP_COLUMNS,
    columns=MEMBERSHIP_COLUMNS,
)
def _segment_membership(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.segments:
        ctx.skip_reasons[str(MartName.SEGMENT_MEMBERSHIP)] = "no user-defined segments ([segments] in retain.toml)"
        return None
    path = ctx.paths.get(str(MartName.PROFILES))
    if path is None:
        ctx.skip_reasons[str(MartName.SEGMENT_MEMBERSHIP)] = "no profiles to evaluate the segments on"
        return None
    # The predicates run on the profiles just written, read back as Parquet: the engine evaluates them without
    # recomputing the profiles, and Spark gets exact types (no pandas round trip).
    profiles = ctx.backend.read_parquet(str(path))
    return ctx.execute(evaluate_segments(profiles, ctx.segments))
