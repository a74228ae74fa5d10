"""The time span of the facts: the earliest and latest instant recorded in any canonical table.

Every timestamp column counts (sign-ups, orders, subscription starts *and ends*, events, tickets opened *and
resolved*, survey answers), so the latest fact is also the latest moment the data describes — the default
``as_of`` of a refresh, a training and a scoring.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from retain.contract.tables import TABLES, ColumnType

__all__ = ["time_range"]


def time_range(tables: Mapping[str, ibis.Table]) -> ibis.Table:
    """One row ``(first, last)``: the earliest and latest timestamp over every timestamp column of ``tables``.

    Parameters
    ----------
    tables
        Canonical table name → Ibis table (all on one backend).

    Returns
    -------
    ibis.Table
        Unexecuted; ``first`` and ``last`` are null when the tables hold no timestamp.
    """
    parts = []
    for name, table in tables.items():
        for column in TABLES[name].columns:
            if column.type is ColumnType.TIMESTAMP and column.name in table.columns:
                value = table[column.name].cast("timestamp('UTC')")
                parts.append(table.aggregate(first=value.min(), last=value.max()))
    if not parts:
        return ibis.memtable(
            {"first": [None], "last": [None]}, schema={"first": "timestamp('UTC')", "last": "timestamp('UTC')"}
        )
    spans = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
    return spans.aggregate(first=spans.first.min(), last=spans.last.max())
