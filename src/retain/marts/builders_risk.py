"""Builders of the early-warning marts: who is at risk (``at_risk``) and how well the model's risks hold up
(``churn_calibration``), plus the join of the risk columns into the customer 360 (``profiles``).

Both marts come from the workspace's CURRENT churn model: ``at_risk`` is
:func:`~retain.models.scoring.score_workspace` at the refresh's ``as_of`` (every customer of the model's
population, ranked by revenue at risk, reasons for the top :data:`TOP_EXPLAINED`); ``churn_calibration`` is the
calibration table of the model's temporal backtest (from its metadata) with the lift of each decile. Without a
trained model both are skipped with :data:`NO_MODEL_REASON` and the profiles stay as they were.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retain.errors import InputError
from retain.marts.context import RefreshContext
from retain.marts.registry import MartName, register

__all__ = ["NO_MODEL_REASON", "PROFILE_RISK_COLUMNS", "TOP_EXPLAINED", "join_risk"]

NO_MODEL_REASON = "no churn model trained; run `retain model train`"
"""Why the early-warning marts are skipped in a workspace without a churn model."""

TOP_EXPLAINED = 20
"""Customers (by rank) whose reasons, reason code and playbook the ``at_risk`` mart holds (explaining is slow)."""

PROFILE_RISK_COLUMNS = ("p_churn", "health", "band", "clv", "revenue_at_risk", "reason_code", "playbook")
"""Columns of ``at_risk`` copied into the ``profiles`` mart (null for customers outside the model's population)."""


def _has_model(ctx: RefreshContext, mart: MartName) -> bool:
    from retain.models.training import churn_registry  # imported here: LightGBM & co. load only when needed

    if ctx.workspace is None or churn_registry(ctx.workspace).current() is None:
        ctx.skip_reasons[str(mart)] = NO_MODEL_REASON
        return False
    return True


@register(MartName.AT_RISK, "customers ranked by revenue at risk (P(churn) x CLV): risk, health, value, reasons")
def _at_risk(ctx: RefreshContext) -> pa.Table | None:
    if not _has_model(ctx, MartName.AT_RISK):
        return None
    from retain.models.scoring import score_workspace

    try:
        ranked = score_workspace(ctx.workspace, as_of=ctx.as_of, top=TOP_EXPLAINED)
    except InputError as error:
        # A model that no longer fits the data (other features, other business model) must not fail the refresh.
        ctx.skip_reasons[str(MartName.AT_RISK)] = f"the churn model cannot score this data: {error}"
        return None
    frame = ranked.assign(model_version=ranked.attrs["model_version"], horizon_days=ranked.attrs["horizon_days"])
    for column in ("reasons", "reason_code", "playbook"):
        frame[column] = frame[column].astype("string")  # all-null beyond the top N: keep them text, not null-typed
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


@register(MartName.CHURN_CALIBRATION, "churn model backtest: predicted vs observed churn and lift per risk decile")
def _churn_calibration(ctx: RefreshContext) -> pa.Table | None:
    if not _has_model(ctx, MartName.CHURN_CALIBRATION):
        return None
    from retain.models.training import churn_registry

    metadata = churn_registry(ctx.workspace).metadata()
    table = pd.DataFrame(metadata["backtest"]["calibration"])
    base_rate = table["positives"].sum() / table["count"].sum()
    # Bin 0 holds the lowest predictions; decile 1 is the riskiest tenth (the one acted on first).
    table["decile"] = len(table) - table["bin"]
    table["lift"] = table["observed_rate"] / base_rate if base_rate > 0 else float("nan")
    table["model_version"] = metadata["version"]
    table["horizon_days"] = int(metadata["horizon_days"])
    for name in ("roc_auc", "pr_auc", "brier"):
        table[name] = float(metadata["backtest"]["metrics"][name])
    return pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(None)


def join_risk(ctx: RefreshContext, profiles: pa.Table) -> pa.Table:
    """``profiles`` with the :data:`PROFILE_RISK_COLUMNS` of the ``at_risk`` mart built in this refresh.

    A left join on ``customer_id``: every profile stays, customers the model does not score (not active at
    ``as_of``) get nulls. Without an ``at_risk`` mart the profiles are returned unchanged.
    """
    at_risk = ctx.built.get(str(MartName.AT_RISK))
    if at_risk is None:
        return profiles
    clashes = [c for c in PROFILE_RISK_COLUMNS if c in profiles.column_names]
    if clashes:
        raise InputError(f"the profiles mart already has column(s) {clashes}; the risk columns would overwrite them.")
    risk = at_risk.select(["customer_id", *PROFILE_RISK_COLUMNS])
    ids = risk["customer_id"].cast(profiles.schema.field("customer_id").type)
    position = pc.index_in(profiles["customer_id"], value_set=ids)
    columns = {name: risk[name].take(position) for name in PROFILE_RISK_COLUMNS}
    for name, values in columns.items():
        profiles = profiles.append_column(name, values)
    return profiles
