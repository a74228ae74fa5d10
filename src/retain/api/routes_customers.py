"""``/v1/customers/{id}``: the 360 of one customer, and ``/v1/at-risk``: the list a retention team works from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, create_model

from retain import services
from retain.api._values import plain, plain_rows
from retain.api.pagination import Limit, Offset
from retain.api.security import require, workspace
from retain.contract.profile import PROFILE, ProfileType
from retain.contract.taxonomy import ReasonCode
from retain.services.auth import ApiScope
from retain.services.customer_messages import customer_messages
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["customers"])

_PYTHON_TYPES: dict[ProfileType, Any] = {
    ProfileType.STRING: str,
    ProfileType.INTEGER: int,
    ProfileType.FLOAT: float,
    ProfileType.BOOLEAN: bool,
    ProfileType.TIMESTAMP: datetime,
}

CustomerProfile = create_model(  # one field per column of the profile spec, with its meaning
    "CustomerProfile",
    __config__=ConfigDict(extra="ignore"),
    **{
        column.name: (_PYTHON_TYPES[column.type] | None, Field(None, description=column.description))
        for column in PROFILE
    },
)


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    summary: str
    amount: float | None = None
    details: str | None = None


class MessageOut(BaseModel):
    """One step a playbook decided for the customer, and what became of its message."""

    playbook: str
    arm: str = Field(description="treatment or holdout")
    step: int
    action: str
    status: str = Field(description="enqueued, done, held_out, suppressed, skipped or failed")
    reason: str | None = Field(description="Why it was suppressed, skipped or failed.")
    decided_at: datetime = Field(description="The playbook run's as-of.")
    send_at: datetime | None
    channel: str | None
    subject: str | None = Field(description="An email's subject.")
    delivery_status: str | None = Field(description="The outbox message's state; null when nothing was queued.")
    delivered_at: datetime | None


class Customer360Out(BaseModel):
    customer_id: str
    snapshot: str = Field(description="The analytics snapshot the profile and timeline come from.")
    as_of: datetime
    profile: CustomerProfile  # type: ignore[valid-type]
    segments: list[str] = Field(description="The user-defined segments (retain.toml) the customer belongs to.")
    timeline: list[TimelineEntry] = Field(description="Every fact about the customer, oldest first.")
    messages: list[MessageOut] = Field(description="What retain's playbooks did for the customer, newest first.")


CustomerId = Annotated[str, Path(min_length=1, max_length=255, description="The customer's id.")]


@router.get(
    "/v1/customers/{customer_id}",
    response_model=Customer360Out,
    summary="A customer's 360: profile with risk, reasons, value and health; segments; timeline; messages",
)
def customer(
    customer_id: CustomerId,
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
) -> Customer360Out:
    view = services.customer_360(ws, customer_id)
    return Customer360Out(
        customer_id=view.customer_id,
        snapshot=view.snapshot_id,
        as_of=view.as_of,
        profile=CustomerProfile(**{k: plain(v) for k, v in view.profile.items()}),
        segments=view.segments,
        timeline=[TimelineEntry(**row) for row in plain_rows(view.timeline)],
        messages=[MessageOut(**vars(m)) for m in customer_messages(ws, customer_id)],
    )


class AtRiskCustomer(BaseModel):
    """One customer of the at-risk list; the health components the data allows follow as extra keys."""

    model_config = ConfigDict(extra="allow")

    rank: int = Field(description="Position among every customer scored (1 = act first).")
    customer_id: str
    name: str | None = None
    email: str | None = None
    expected_loss: float | None = Field(None, description="p_churn x value_if_retained: the list's order.")
    p_churn: float | None = None
    value_if_retained: float | None = None
    p_alive: float | None = None
    expected_orders: float | None = None
    health: int | None = None
    band: str | None = None
    health_components: str | None = None
    reasons: str | None = None
    reason_code: str | None = None
    playbook: str | None = None
    context: str | None = None


class AtRiskOut(BaseModel):
    as_of: datetime
    model_version: str
    business_model: str
    horizon_days: int
    customers_scored: int = Field(description="Customers of the model's population, before the filters.")
    total: int = Field(description="Customers the filters keep, over every page.")
    limit: int
    offset: int
    filters: dict[str, str]
    customers: list[AtRiskCustomer]


@router.get(
    "/v1/at-risk",
    response_model=AtRiskOut,
    summary="The at-risk list: ranked by expected loss, filtered, explained, with contacts",
)
def at_risk(
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
    limit: Limit = 20,
    offset: Offset = 0,
    min_risk: Annotated[float | None, Query(ge=0, le=1, description="Only customers with P(churn) >= this.")] = None,
    segment: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            description="A user segment of retain.toml, an RFM segment or a lifecycle state.",
        ),
    ] = None,
    reason: Annotated[ReasonCode | None, Query(description="Only customers whose first reason has this code.")] = None,
) -> AtRiskOut:
    listed = services.at_risk(
        ws,
        top=limit,
        offset=offset,
        min_risk=min_risk,
        segment=segment,
        reason=None if reason is None else reason.value,
    )
    return AtRiskOut(
        as_of=listed.as_of,
        model_version=listed.model_version,
        business_model=str(listed.business_model),
        horizon_days=listed.horizon_days,
        customers_scored=listed.scored,
        total=listed.matching,
        limit=limit,
        offset=offset,
        filters=listed.filters,
        customers=[AtRiskCustomer(**row) for row in plain_rows(listed.rows.to_dict("records"))],
    )
