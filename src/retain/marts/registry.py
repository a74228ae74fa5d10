"""The registry of marts: one declared spec and builder per mart, under a ``MartName`` key, run in order.

Each mart is declared once as a :class:`MartSpec` — what it holds, its grain (the columns that identify a row)
and its columns in order — which is what readers (views, report, API, dashboard, docs) rely on; a test builds
every mart and checks it against its spec. A builder takes the :class:`~retain.marts.context.RefreshContext`
and returns the mart as an Arrow table (it builds unexecuted Ibis expressions with :mod:`retain.analytics` and
executes them on the refresh's backend), or ``None`` when the mart does not apply to this workspace (then it
records why in ``ctx.skip_reasons``). Adding a mart is adding one decorated function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from retain.marts.context import RefreshContext

__all__ = ["MARTS", "MartBuilder", "MartName", "MartSpec", "builders_in_order", "register"]


class MartName(StrEnum):
    """Marts of a snapshot (each is ``<name>.parquet``)."""

    RETENTION = "retention"
    MRR_MOVEMENTS = "mrr_movements"
    MRR_SUMMARY = "mrr_summary"
    COHORTS = "cohorts"
    COMMERCE = "commerce"
    SATISFACTION = "satisfaction"
    SUPPORT = "support"
    RFM = "rfm"
    LIFECYCLE = "lifecycle"
    LIFECYCLE_FLOWS = "lifecycle_flows"
    AT_RISK = "at_risk"
    CHURN_CALIBRATION = "churn_calibration"
    PROFILES = "profiles"
    SEGMENT_MEMBERSHIP = "segment_membership"


@dataclass(frozen=True)
class MartSpec:
    """What one mart holds: its meaning, the columns that identify a row, and every column in order."""

    name: MartName
    description: str
    grain: tuple[str, ...]
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        missing = [c for c in self.grain if c not in self.columns]
        if missing:
            raise ValueError(f"mart {self.name}: grain column(s) {missing} are not among its columns")


@dataclass(frozen=True)
class MartBuilder:
    """How to compute one mart, and its spec."""

    spec: MartSpec
    build: Callable[[RefreshContext], pa.Table | None]

    @property
    def name(self) -> MartName:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description


MARTS: dict[MartName, MartBuilder] = {}
"""Registered builders, in the order refresh runs them (a builder may read marts built before it)."""


def register(
    name: MartName, description: str, *, grain: tuple[str, ...], columns: tuple[str, ...]
) -> Callable[[Callable[[RefreshContext], pa.Table | None]], MartBuilder]:
    """Decorator: register ``build`` as the builder of mart ``name``, declared by its grain and columns."""

    def decorate(build: Callable[[RefreshContext], pa.Table | None]) -> MartBuilder:
        if name in MARTS:
            raise ValueError(f"Mart {name!r} is registered twice.")
        builder = MartBuilder(MartSpec(name, description, tuple(grain), tuple(columns)), build)
        MARTS[name] = builder
        return builder

    return decorate


def builders_in_order() -> list[MartBuilder]:
    """The registered builders in :class:`MartName` order (later marts may read earlier ones)."""
    order = list(MartName)
    return sorted(MARTS.values(), key=lambda builder: order.index(builder.name))
