"""Builders of the early-warning marts: who is at risk (``at_risk``) and how well the model's risks hold up
(``churn_calibration``), plus the join of the risk columns into the customer 360 (``profiles``).

Both marts come from the :class:`~retain.marts.context.RiskScores` the refresh service computed with the one
model version it pinned: ``at_risk`` is the scored population ranked by expected loss (reasons for the top
:data:`TOP_EXPLAINED`); ``churn_calibration`` is the calibration table of the model's temporal backtest (from its
metadata) with the lift of each decile. Without a model both are skipped with the reason the refresh recorded,
and the profiles' risk columns are null.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.profile import PROFILE, ProfileGroup
from retain.errors import InputError
from retain.marts.context import RefreshContext
from retain.marts.registry import MartName, register
from retain.models.metadata import CalibrationBin
from retain.models.scoring import REASON_COLUMNS, SCORE_COLUMNS
from retain.settings import HealthComponent

__all__ = ["NO_MODEL_REASON", "PROFILE_RISK_COLUMNS", "TOP_EXPLAINED", "join_risk"]

NO_MODEL_REASON = "no churn model trained; run `retain model train`"
"""Why the early-warning marts are skipped in a workspace without a churn model."""

TOP_EXPLAINED = 20
"""Customers (by rank) whose reasons, reason code and playbook the ``at_risk`` mart always holds; a refresh also
explains everyone at or above ``[automation] explain_min_p_churn``."""

PROFILE_RISK_COLUMNS: tuple[str, ...] = tuple(c.name for c in PROFILE.in_group(ProfileGroup.RISK))
"""Columns of the profile spec's ``risk`` group, copied from ``at_risk`` into ``profiles`` (null when absent)."""

_AT_RISK_SOURCE = {"risk_rank": "rank"}  # profile column -> at_risk column, where the names differ

HEALTH_COLUMNS = tuple(f"{c}{suffix}" for c in HealthComponent for suffix in ("", "_contribution"))
"""The health components of a scored customer, each as points and as its share of the score."""


def _risk(ctx: RefreshContext, mart: MartName) -> bool:
    if ctx.risk is None:
        ctx.skip_reasons[str(mart)] = ctx.risk_skipped or NO_MODEL_REASON
        return False
    return True


@register(
    MartName.AT_RISK,
    "customers ranked by expected loss (P(churn) x value if retained): risk, value, health, reasons",
    grain=("customer_id",),
    columns=(*SCORE_COLUMNS, *HEALTH_COLUMNS, "model_version", "horizon_days"),
)
def _at_risk(ctx: RefreshContext) -> pa.Table | None:
    if not _risk(ctx, MartName.AT_RISK):
        return None
    assert ctx.risk is not None
    ranked = ctx.risk.ranked
    frame = ranked.assign(model_version=ctx.risk.metadata.version, horizon_days=ctx.risk.metadata.horizon_days)
    for column in REASON_COLUMNS:
        frame[column] = frame[column].astype("string")  # all-null beyond the top N: keep them text, not null-typed
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


@register(
    MartName.CHURN_CALIBRATION,
    "churn model backtest: predicted vs observed churn and lift per risk decile",
    grain=("bin",),
    columns=(
        *CalibrationBin.model_fields,
        "decile",
        "lift",
        "model_version",
        "horizon_days",
        "roc_auc",
        "pr_auc",
        "brier",
    ),
)
def _churn_calibration(ctx: RefreshContext) -> pa.Table | None:
    if not _risk(ctx, MartName.CHURN_CALIBRATION):
        return None
    assert ctx.risk is not None
    metadata = ctx.risk.metadata
    table = pd.DataFrame([row.model_dump() for row in metadata.backtest.calibration])
    base_rate = table["positives"].sum() / table["count"].sum()
    # Bin 0 holds the lowest predictions; decile 1 is the riskiest tenth (the one acted on first).
    table["decile"] = len(table) - table["bin"]
    table["lift"] = table["observed_rate"] / base_rate if base_rate > 0 else float("nan")
    table["model_version"] = metadata.version
    table["horizon_days"] = int(metadata.horizon_days)
    for name in ("roc_auc", "pr_auc", "brier"):
        table[name] = float(metadata.backtest.metrics[name])
    return pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(None)


def join_risk(ctx: RefreshContext, profiles: pa.Table) -> pa.Table:
    """``profiles`` with every :data:`PROFILE_RISK_COLUMNS` column, from the ``at_risk`` mart of this refresh.

    A left join on ``customer_id``: every profile stays, customers the model does not score (not active at
    ``as_of``) get nulls; without an ``at_risk`` mart every risk column is null. Either way the result has the
    columns of the profile spec, in its order, with its types.
    """
    clashes = [c for c in PROFILE_RISK_COLUMNS if c in profiles.column_names]
    if clashes:
        raise InputError(f"the profiles mart already has column(s) {clashes}; the risk columns would overwrite them.")
    at_risk = ctx.built.get(str(MartName.AT_RISK))
    position = None
    if at_risk is not None:
        ids = at_risk["customer_id"].cast(profiles.schema.field("customer_id").type)
        position = pc.index_in(profiles["customer_id"], value_set=ids)
    for name in PROFILE_RISK_COLUMNS:
        kind = PROFILE[name].type.arrow
        source = _AT_RISK_SOURCE.get(name, name)
        if position is None or source not in at_risk.column_names:
            values = pa.nulls(profiles.num_rows, kind)
        else:
            values = at_risk[source].take(position).cast(kind)
        profiles = profiles.append_column(name, values)
    return profiles.select(PROFILE.names).cast(PROFILE.arrow_schema())
