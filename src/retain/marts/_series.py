"""Period-series marts: one metric computed on the month, quarter and year grids, stacked with a ``freq`` column."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import pyarrow as pa

from retain.analytics.periods import Freq, Period
from retain.marts.context import RefreshContext

__all__ = ["SERIES_EXTRA", "SERIES_GRAIN", "per_freq"]

SERIES_EXTRA = ("freq", "complete")
"""Columns every series mart adds to its metric's: the frequency and whether the period is whole."""
SERIES_GRAIN = ("period_start", "period_end", "freq")
"""A row of a series mart: one period of one frequency."""


def per_freq(ctx: RefreshContext, metric: Callable[[list[Period]], ibis.Table]) -> pa.Table | None:
    """Execute ``metric`` once over the periods of every frequency and stack the results by frequency.

    Every series metric computes each period from its own two boundaries, and the quarter and year boundaries
    are month boundaries, so one query over the union of the grids costs about what the months alone cost (the
    range joins see the same instants) instead of three queries. A period shared by two grids (a month, quarter
    and year all cut to the same span at ``as_of``) is computed once and listed under each.

    Returns
    -------
    pyarrow.Table or None
        The metric's columns plus ``freq`` (``month``/``quarter``/``year``) and ``complete`` (false for a period
        cut at ``as_of``), months first; ``None`` when there is no period (all data at one instant).
    """
    grids = {freq: ctx.periods(freq) for freq in Freq}
    union = sorted({period for periods in grids.values() for period in periods})
    if not union:
        ctx.skip_reasons.setdefault("_series", "no reporting period: every fact has the same timestamp")
        return None
    result = ctx.execute(metric(union))
    keys = list(zip(result.column("period_start").to_pylist(), result.column("period_end").to_pylist(), strict=True))
    parts = []
    for freq, periods in grids.items():
        if not periods:
            continue
        wanted = {(p.start, p.end) for p in periods}
        rows = [i for i, key in enumerate(keys) if key in wanted]
        part = result.take(pa.array(rows, pa.int64()))
        whole = ctx.complete(freq)
        complete = [whole.get(start, True) for start in part.column("period_start").to_pylist()]
        part = part.append_column("freq", pa.array([freq.value] * part.num_rows, pa.string()))
        parts.append(part.append_column("complete", pa.array(complete, pa.bool_())))
    return pa.concat_tables(parts, promote_options="permissive")
