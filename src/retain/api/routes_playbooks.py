"""``/v1/playbooks``: the workspace's playbooks with their enrolments, and what each achieved."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from retain.api.security import require, workspace
from retain.services.auth import ApiScope
from retain.services.playbook_overview import playbook_overview
from retain.services.playbook_results import playbook_results
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["playbooks"])


class PlaybookOut(BaseModel):
    name: str
    description: str
    enabled: bool
    trigger: str = Field(description="The trigger's kind, e.g. inactive.")
    trigger_summary: str = Field(description="The trigger in a few words, e.g. 'inactive 30 d'.")
    priority: int = Field(description="0..100; the higher one wins a customer several playbooks want.")
    holdout: float = Field(description="The share of enrolled customers held out (never contacted).")
    version: str = Field(description="12 hex digits of the file's SHA-256.")
    enrolled: int = Field(description="Every enrolment so far, both arms.")
    treated: int
    held_out: int


class PlaybooksOut(BaseModel):
    playbooks: list[PlaybookOut] = Field(description="Highest priority first.")
    problems: list[str] = Field(description="One line per invalid playbook file; those files are not listed.")


@router.get("/v1/playbooks", response_model=PlaybooksOut, summary="The playbooks, their status and enrolments")
def playbooks(
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
) -> PlaybooksOut:
    found = playbook_overview(ws)
    return PlaybooksOut(playbooks=[PlaybookOut(**vars(p)) for p in found.playbooks], problems=found.problems)


class ArmOut(BaseModel):
    arm: str
    customers: int
    mean: float | None
    std: float | None


class ArmsOut(BaseModel):
    treatment: ArmOut
    holdout: ArmOut


class EffectOut(BaseModel):
    effect: float | None = Field(description="mean(treatment) - mean(holdout).")
    ci_low: float | None
    ci_high: float | None
    half_width: float | None
    std_error: float | None
    df: float | None
    p_value: float | None
    confidence: float | None
    significant: bool
    mde: float | None = Field(description="Minimum detectable effect at the current sample size.")
    relative_effect: float | None


class CupedOut(EffectOut):
    theta: float | None
    variance_reduction: float | None
    width_ratio: float | None
    width_change: float | None


class SampleRatioOut(BaseModel):
    treatment: int
    holdout: int
    expected_treatment: float | None
    expected_holdout: float | None
    holdout_share: float
    observed_holdout_share: float | None
    statistic: float | None
    p_value: float | None
    method: str
    srm: bool
    alpha: float


class UpliftOut(BaseModel):
    status: str = Field(description="measured or not_enough_data (then `reason` says why).")
    reason: str | None
    outcome_kind: str = Field(description="binary (effects in shares) or numeric (in the metric's units).")
    holdout_share: float
    confidence: float
    power: float
    arms: ArmsOut
    effect: EffectOut | None = Field(description="The raw difference with Welch's interval: the headline.")
    cuped: CupedOut | None
    sample_ratio: SampleRatioOut | None
    significant: bool
    srm: bool = Field(description="The arms' split is a sample-ratio mismatch: do not trust the effect.")


class PlaybookResultOut(BaseModel):
    """The same figures as `retain playbook results NAME --format json`."""

    playbook: str
    metric: str = Field(description="The goal metric: retained, orders, revenue or logins.")
    window_days: int
    holdout_share: float
    enrolled: int
    measured: int = Field(description="Enrolments whose goal window had ended at as_of.")
    as_of: datetime
    uplift: UpliftOut | None = Field(description="Null while nothing is measured yet.")


@router.get(
    "/v1/playbooks/{name}/results",
    response_model=PlaybookResultOut,
    summary="What a playbook achieved: its goal metric, treatment against holdout, with a 95% interval",
)
def results(
    name: Annotated[str, Path(min_length=1, max_length=255, description="The playbook's name.")],
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
    as_of: Annotated[
        datetime | None, Query(description="Measure the windows ended by then (default: end of the data).")
    ] = None,
) -> dict[str, object]:
    [result] = playbook_results(ws, name, as_of=as_of)
    return result.to_dict()
