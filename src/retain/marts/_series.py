"""Period-series marts: one metric computed on the month, quarter and year grids, stacked with a ``freq`` column."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import pyarrow as pa

from retain.analytics.periods import Freq, Period
from retain.marts.context import RefreshContext

__all__ = ["per_freq"]


def per_freq(ctx: RefreshContext, metric: Callable[[list[Period]], ibis.Table]) -> pa.Table | None:
    """Execute ``metric(periods)`` for every frequency and stack the results.

    Returns
    -------
    pyarrow.Table or None
        The metric's columns plus ``freq`` (``month``/``quarter``/``year``) and ``complete`` (false for a period
        cut at ``as_of``), months first; ``None`` when there is no period (all data at one instant).
    """
    parts = []
    for freq in Freq:
        periods = ctx.periods(freq)
        if not periods:
            continue
        result = ctx.execute(metric(periods))
        whole = ctx.complete(freq)
        complete = [whole.get(start, True) for start in result.column("period_start").to_pylist()]
        result = result.append_column("freq", pa.array([freq.value] * result.num_rows, pa.string()))
        parts.append(result.append_column("complete", pa.array(complete, pa.bool_())))
    if not parts:
        ctx.skip_reasons.setdefault("_series", "no reporting period: every fact has the same timestamp")
        return None
    return pa.concat_tables(parts, promote_options="permissive")
