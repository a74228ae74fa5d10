"""The registry of marts: one builder per mart, registered under a ``MartName`` key, run in order by refresh.

A builder takes the :class:`~retain.marts.context.RefreshContext` and returns the mart as an Arrow table (it
builds unexecuted Ibis expressions with :mod:`retain.analytics` and executes them on the refresh's backend),
or ``None`` when the mart does not apply to this workspace (then it records why in ``ctx.skip_reasons``).
Adding a mart is adding one decorated function; refresh, the manifest and the progress display pick it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from retain.marts.context import RefreshContext

__all__ = ["MARTS", "MartBuilder", "MartName", "builders_in_order", "register"]


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
class MartBuilder:
    """How to compute one mart."""

    name: MartName
    description: str
    build: Callable[[RefreshContext], pa.Table | None]


MARTS: dict[MartName, MartBuilder] = {}
"""Registered builders, in the order refresh runs them (a builder may read marts built before it)."""


def register(name: MartName, description: str) -> Callable[[Callable[[RefreshContext], pa.Table | None]], MartBuilder]:
    """Decorator: register ``build`` as the builder of mart ``name``."""

    def decorate(build: Callable[[RefreshContext], pa.Table | None]) -> MartBuilder:
        if name in MARTS:
            raise ValueError(f"Mart {name!r} is registered twice.")
        builder = MartBuilder(name, description, build)
        MARTS[name] = builder
        return builder

    return decorate


def builders_in_order() -> list[MartBuilder]:
    """The registered builders in :class:`MartName` order (later marts may read earlier ones)."""
    order = list(MartName)
    return sorted(MARTS.values(), key=lambda builder: order.index(builder.name))
