"""``/v1/metrics``, ``/v1/cohorts``, ``/v1/segments``: the views of the current analytics snapshot.

The answers carry the same keys and numbers as ``retain metrics|cohorts|segments --format json`` (the dashboard
and a test compare them); instants are ISO 8601.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, create_model

from retain import services
from retain.analytics.cohorts import CohortMeasure
from retain.analytics.periods import Freq
from retain.api.security import require, workspace
from retain.services.analytics import metric_section_columns
from retain.services.auth import ApiScope
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["analytics"])

_SECTIONS = {
    section: create_model(  # the section's KPI columns as declared by its mart
        f"{section.capitalize()}Kpis",
        __config__=ConfigDict(extra="allow"),
        **{column: (int | float | None, None) for column in columns},
    )
    for section, columns in metric_section_columns().items()
}

Period = create_model(
    "Period",
    period_start=(datetime, ...),
    period_end=(datetime, ...),
    complete=(bool, Field(description="False for the period cut at the snapshot's as-of.")),
    **{section: (model | None, None) for section, model in _SECTIONS.items()},
)


class MetricsOut(BaseModel):
    snapshot: str
    as_of: datetime
    freq: Freq
    periods: list[Period] = Field(description="Oldest first; a section is absent when the data has none.")  # type: ignore[valid-type]


@router.get(
    "/v1/metrics",
    response_model=MetricsOut,
    response_model_exclude_unset=True,
    summary="KPIs per period: retention and churn, MRR movements, NRR/GRR, AOV, repeat rate, NPS/CSAT, support",
)
def metrics(
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
    freq: Annotated[Freq, Query(description="Period length.")] = Freq.MONTH,
    last: Annotated[int | None, Query(ge=1, le=10_000, description="Only the newest N periods.")] = 12,
) -> dict[str, object]:
    view = services.metrics(ws, freq=freq, last=last)
    return {"snapshot": view.snapshot_id, "as_of": view.as_of, "freq": freq, "periods": view.data}


class Cohort(BaseModel):
    cohort: datetime = Field(description="The signup month.")
    cohort_size: float
    values: list[float | None] = Field(description="The value (or share) at each age of `ages`; null beyond the data.")


class CohortsOut(BaseModel):
    snapshot: str
    measure: CohortMeasure
    shares: bool
    ages: list[int] = Field(description="Months after signup.")
    cohorts: list[Cohort]


@router.get("/v1/cohorts", response_model=CohortsOut, summary="Monthly signup cohorts: what is left at each age")
def cohorts(
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
    measure: Annotated[CohortMeasure, Query(description="logo counts customers, revenue their MRR or spend.")] = (
        CohortMeasure.LOGO
    ),
    shares: Annotated[bool, Query(description="Shares of the cohort size instead of values.")] = False,
) -> dict[str, object]:
    result = services.cohorts(ws, measure=measure.value, shares=shares)
    view = result.data
    return {
        "snapshot": result.snapshot_id,
        "measure": view.measure,
        "shares": view.shares,
        "ages": view.ages,
        "cohorts": view.rows,
    }


class RfmSegment(BaseModel):
    segment: str
    customers: int
    revenue: float
    share: float | None = Field(description="Percent of the customers with an RFM score.")


class LifecycleState(BaseModel):
    state: str
    customers: int
    share: float | None


class UserSegment(BaseModel):
    segment: str
    customers: int
    share: float | None = Field(description="Percent of every customer of the snapshot.")


class SegmentsOut(BaseModel):
    snapshot: str
    rfm: list[RfmSegment] | None = Field(None, description="By revenue, largest first; absent without orders.")
    lifecycle: list[LifecycleState] | None = None
    user: list[UserSegment] | None = Field(None, description="The segments of retain.toml.")


@router.get(
    "/v1/segments",
    response_model=SegmentsOut,
    response_model_exclude_unset=True,
    summary="Segment sizes: RFM segments, lifecycle states, user-defined segments",
)
def segments(
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
) -> dict[str, object]:
    result = services.segments(ws)
    return {"snapshot": result.snapshot_id, **result.data}
