"""Builders of the per-customer marts: cohorts, RFM, lifecycle states and flows, profiles, segment membership."""

from __future__ import annotations

import pyarrow as pa

from retain.analytics.rfm import rfm_scores
from retain.contract.tables import TableName
from retain.marts.context import RefreshContext
from retain.marts.registry import MartName, register

__all__: list[str] = []  # builders register themselves; nothing to import from here

_ORDERS = TableName.ORDERS


@register(MartName.RFM, "recency, frequency, monetary scores 1-5 and named segment per customer at as_of")
def _rfm(ctx: RefreshContext) -> pa.Table | None:
    if not ctx.has(_ORDERS):
        ctx.skip_reasons[str(MartName.RFM)] = "no orders (RFM scores purchases)"
        return None
    return ctx.execute(rfm_scores(ctx.table(_ORDERS), as_of=ctx.as_of))
