"""What every mart builder of one refresh shares: the lake tables, the as-of instant and the period grids.

The context is built once per refresh. It looks at which canonical tables hold data (a mart whose inputs are
all empty is skipped, not computed on empty tables), finds the time range of the data (the default ``as_of`` is
its latest timestamp, not the wall clock) and lays out the reporting periods.

**Periods.** For each frequency (month, quarter, year) the grid runs from the calendar period holding the first
timestamp of the data up to ``as_of``; the last period is cut at ``as_of`` when ``as_of`` is not a period
boundary (it is then *partial*: ``complete`` is false in the series marts), because states after ``as_of``
are unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from retain.analytics.periods import Freq, Period, as_instant, period_grid
from retain.contract.tables import TABLES, TableName
from retain.errors import InputError

__all__ = ["BusinessModel", "RefreshContext", "data_time_range"]

# Besides each table's time column, the recorded instants that can be a table's latest fact.
_EXTRA_TIME_COLUMNS: dict[str, tuple[str, ...]] = {"subscriptions": ("ended_at",), "tickets": ("resolved_at",)}


class BusinessModel(StrEnum):
    """How "active" is defined for the customer series: a running subscription, or a recent order."""

    SUBSCRIPTION = "subscription"
    COMMERCE = "commerce"


def data_time_range(
    backend: ibis.BaseBackend, tables: dict[str, ibis.Table]
) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest recorded instant over ``tables`` (their time columns, subscription ends, resolutions)."""
    lows, highs = [], []
    for name, table in tables.items():
        columns = (TABLES[name].time_column, *_EXTRA_TIME_COLUMNS.get(name, ()))
        aggregates = {}
        for i, column in enumerate(columns):
            aggregates[f"lo{i}"] = table[column].min()
            aggregates[f"hi{i}"] = table[column].max()
        row = backend.to_pyarrow(table.aggregate(**aggregates)).to_pylist()[0]
        lows += [v for k, v in row.items() if k.startswith("lo") and v is not None]
        highs += [v for k, v in row.items() if k.startswith("hi") and v is not None]
    return (min(lows) if lows else None, max(highs) if highs else None)


@dataclass
class RefreshContext:
    """Inputs shared by the mart builders of one refresh.

    Parameters
    ----------
    backend
        The Ibis backend that executes the expressions.
    tables
        The canonical tables that hold data, by name (empty tables are absent).
    as_of
        The instant the marts describe (timezone-aware UTC).
    data_start
        The earliest recorded instant of the data (``None`` when the lake is empty).
    activity_window_days
        Window of the non-contractual activity rule.
    segments
        User-defined segments (name → predicate), from the settings.
    workspace
        The workspace refreshed, for marts that read more than the lake (the churn model of the at-risk mart);
        ``None`` when the context is built without one (those marts are then skipped).
    """

    backend: ibis.BaseBackend
    tables: dict[str, ibis.Table]
    as_of: datetime
    data_start: datetime | None
    activity_window_days: int = 90
    segments: dict[str, str] = field(default_factory=dict)
    workspace: Any = None
    built: dict[str, pa.Table] = field(default_factory=dict)
    """Marts already built in this refresh (later builders may reuse them)."""
    skip_reasons: dict[str, str] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    """Parquet files of the marts already written in this refresh (in the snapshot's temporary folder)."""

    @classmethod
    def create(
        cls,
        backend: ibis.BaseBackend,
        read: Callable[[str], ibis.Table],
        present: list[str],
        *,
        as_of: date | datetime | None = None,
        activity_window_days: int = 90,
        segments: dict[str, str] | None = None,
        workspace: Any = None,
    ) -> RefreshContext:
        """Open the tables named in ``present`` with ``read`` and find the as-of instant.

        Raises
        ------
        InputError
            If the lake holds no data at all (nothing to compute), or ``as_of`` is before the first fact.
        """
        tables = {name: read(name) for name in present}
        start, end = data_time_range(backend, tables)
        if end is None:
            raise InputError(
                "The workspace holds no data yet, so there is nothing to refresh. "
                "Ingest some first, e.g. `retain ingest orders orders.csv` (or try `retain demo`)."
            )
        resolved = as_instant(as_of if as_of is not None else end)
        start = as_instant(start)
        if resolved < start:
            raise InputError(
                f"as_of {resolved.isoformat()} is before the first fact of the workspace ({start.isoformat()}); "
                "pass a later date or leave --as-of out (the default is the latest timestamp in the data)."
            )
        return cls(
            backend=backend,
            tables=tables,
            as_of=resolved,
            data_start=start,
            activity_window_days=activity_window_days,
            segments=dict(segments or {}),
            workspace=workspace,
        )

    def has(self, *names: TableName | str) -> bool:
        """Whether any of the named tables holds data."""
        return any(str(n) in self.tables for n in names)

    def table(self, name: TableName | str) -> ibis.Table | None:
        return self.tables.get(str(name))

    @property
    def model(self) -> BusinessModel:
        """Subscription when the lake has subscriptions, else commerce (orders)."""
        return BusinessModel.SUBSCRIPTION if self.has(TableName.SUBSCRIPTIONS) else BusinessModel.COMMERCE

    def execute(self, expr: ibis.Table) -> pa.Table:
        """Run an Ibis expression on the refresh's backend, as Arrow."""
        return self.backend.to_pyarrow(expr)

    @cached_property
    def _grids(self) -> dict[Freq, list[tuple[Period, bool]]]:
        grids: dict[Freq, list[tuple[Period, bool]]] = {}
        for freq in Freq:
            if self.data_start is None or self.data_start >= self.as_of:
                grids[freq] = []
                continue
            grid = period_grid(self.data_start, self.as_of, freq)
            grids[freq] = [(Period(p.start, min(p.end, self.as_of)), p.end <= self.as_of) for p in grid]
        return grids

    def periods(self, freq: Freq | str) -> list[Period]:
        """The reporting periods of ``freq`` from the first fact to ``as_of`` (the last one may be partial)."""
        return [p for p, _ in self._grids[Freq(freq)]]

    def complete(self, freq: Freq | str) -> dict[datetime, bool]:
        """Per period start: whether the period is a whole calendar period (not cut at ``as_of``)."""
        return {p.start: whole for p, whole in self._grids[Freq(freq)]}
