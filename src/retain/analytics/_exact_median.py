"""Exact medians with window ranks: the same number on every engine (no approximate quantiles)."""

from __future__ import annotations

import ibis

__all__ = ["exact_median"]


def exact_median(table: ibis.Table, value: str, by: list[str], *, name: str = "median") -> ibis.Table:
    """Median of ``table[value]`` per group ``by``, ignoring nulls.

    With ``n`` values sorted ascending, the median is the value at rank ``(n + 1) / 2`` for odd ``n`` and the
    mean of the values at ranks ``n / 2`` and ``n / 2 + 1`` for even ``n`` (the textbook definition, also
    pandas' and numpy's). Ranks come from ``row_number`` over the sorted values, so ties cannot change the result,
    and the mean of two floats is computed the same way by every engine — unlike ``approx_median`` or
    engine-specific percentile functions.

    Returns
    -------
    ibis.Table
        Columns ``*by, name`` (float64); one row per group with at least one non-null value.
    """
    t = table.filter(table[value].notnull())
    rank = ibis.row_number().over(group_by=by, order_by=t[value]) + 1  # 1-based
    size = t[value].count().over(group_by=by)
    ranked = t.select(*by, _v=t[value].cast("float64"), _rank=rank, _n=size)
    middle = ranked.filter((ranked._rank == (ranked._n + 1) // 2) | (ranked._rank == ranked._n // 2 + 1))
    return middle.group_by(by).aggregate(**{name: middle._v.mean()})
