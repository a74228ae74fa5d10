"""What every mart builder of one refresh shares: the fixed facts, the as-of instant, the period grids and the
churn model's scores.

The context is built once per refresh from one :class:`~retain.facts.Facts` (one fixed list of lake batches):
a mart whose inputs are all empty is skipped, not computed on empty tables; the default ``as_of`` is the latest
timestamp of the data, not the wall clock; the reporting periods are laid out from the first fact.

**Periods.** For each frequency (month, quarter, year) the grid runs from the calendar period holding the first
timestamp of the data up to ``as_of``; the last period is cut at ``as_of`` when ``as_of`` is not a period
boundary (it is then *partial*: ``complete`` is false in the series marts), because states after ``as_of``
are unknown.

**Risk.** The early-warning marts do not score anything themselves: the refresh service scores the facts with
the one model version it pinned and hands the result in as :class:`RiskScores` (``None`` without a model, with
the reason in ``risk_skipped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from retain.analytics.periods import Freq, Period, as_instant, period_grid
from retain.contract.business_model import BusinessModel
from retain.contract.tables import TableName
from retain.errors import InputError
from retain.facts import Facts
from retain.models.metadata import ModelMetadata

__all__ = ["RefreshContext", "RiskScores"]


@dataclass(frozen=True)
class RiskScores:
    """Every customer of the churn model's population scored at the refresh's ``as_of`` by one model version."""

    ranked: pd.DataFrame
    """The at-risk list (``retain.models.scoring.score_features``): rank, customer_id, expected_loss, p_churn..."""
    metadata: ModelMetadata


@dataclass
class RefreshContext:
    """Inputs shared by the mart builders of one refresh.

    Parameters
    ----------
    facts
        The fixed view of the lake every mart reads.
    as_of
        The instant the marts describe (timezone-aware UTC).
    activity_window_days
        Window of the non-contractual activity rule.
    segments
        User-defined segments (name → predicate) that passed validation.
    risk
        The churn model's scores, or ``None`` (then ``risk_skipped`` says why).
    """

    facts: Facts
    as_of: datetime
    activity_window_days: int = 90
    segments: dict[str, str] = field(default_factory=dict)
    risk: RiskScores | None = None
    risk_skipped: str | None = None
    built: dict[str, pa.Table] = field(default_factory=dict)
    """Marts already built in this refresh (later builders may reuse them)."""
    skip_reasons: dict[str, str] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    """Parquet files of the marts already written in this refresh (in the snapshot's temporary folder)."""

    @classmethod
    def create(
        cls,
        facts: Facts,
        *,
        as_of: date | datetime | None = None,
        activity_window_days: int = 90,
        segments: dict[str, str] | None = None,
    ) -> RefreshContext:
        """Fix the as-of instant of a refresh of ``facts``.

        Raises
        ------
        NoDataError
            If the lake holds no data at all (nothing to compute).
        InputError
            If ``as_of`` is before the first fact.
        """
        start, end = facts.require("refresh").start, facts.default_as_of
        resolved = as_instant(as_of if as_of is not None else end)
        if resolved < start:
            raise InputError(
                f"as_of {resolved.isoformat()} is before the first fact of the workspace ({start.isoformat()}); "
                "pass a later date or leave --as-of out (the default is just after the latest timestamp in the data)."
            )
        return cls(
            facts=facts, as_of=resolved, activity_window_days=activity_window_days, segments=dict(segments or {})
        )

    @property
    def backend(self) -> ibis.BaseBackend:
        return self.facts.backend

    @property
    def tables(self) -> dict[str, ibis.Table]:
        return self.facts.tables

    @property
    def data_start(self) -> datetime:
        return self.facts.start

    def has(self, *names: TableName | str) -> bool:
        """Whether any of the named tables holds data."""
        return self.facts.has(*names)

    def table(self, name: TableName | str) -> ibis.Table | None:
        return self.facts.table(name)

    @property
    def model(self) -> BusinessModel:
        """Subscription when the lake has subscriptions, else commerce (orders)."""
        return self.facts.business_model

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
        return [p for p, _ in self._grids[Freq.parse(freq)]]

    def complete(self, freq: Freq | str) -> dict[datetime, bool]:
        """Per period start: whether the period is a whole calendar period (not cut at ``as_of``)."""
        return {p.start: whole for p, whole in self._grids[Freq.parse(freq)]}
