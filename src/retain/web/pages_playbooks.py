"""Playbooks: each one's status (enabled or not, trigger, holdout) and what it achieved — enrolled, held out, and
the uplift on its goal with its interval (``services.playbook_results``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from retain.automation.uplift_result import OutcomeKind
from retain.services.auth import WebSession
from retain.services.playbook_results import PlaybookResult, playbook_results
from retain.services.playbooks import list_playbooks
from retain.web._format import fmt_number
from retain.web._render import render
from retain.web._route import PageRoute
from retain.web._session import signed_in, workspace
from retain.workspace import Workspace

__all__ = ["PlaybookRow", "router"]

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True)
class PlaybookRow:
    name: str
    description: str
    enabled: bool | None
    """``None`` for a playbook with enrolments whose file is gone."""
    trigger: str
    priority: int | None
    holdout: str
    version: str
    result: PlaybookResult | None
    effect: str | None
    """The uplift and its interval as ``+3.1 pts (95 % CI +0.4 to +5.8)``; ``None`` when not measured."""


def _signed(value: float, scale: float) -> str:
    return fmt_number(value * scale, 1).replace("-", "−") if value < 0 else "+" + fmt_number(value * scale, 1)


def _effect(result: PlaybookResult | None) -> str | None:
    uplift = result.uplift if result is not None else None
    if uplift is None or uplift.raw is None:
        return None
    scale, unit = (100.0, " pts") if uplift.outcome_kind is OutcomeKind.BINARY else (1.0, "")
    raw = uplift.raw
    level = fmt_number(100 * raw.confidence, 0)
    return (
        f"{_signed(raw.effect, scale)}{unit} ({level} % CI {_signed(raw.ci_low, scale)} to "
        f"{_signed(raw.ci_high, scale)})"
    )


@router.get("/playbooks")
def playbooks_page(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    _session: Annotated[WebSession, Depends(signed_in)],
) -> Response:
    check = list_playbooks(ws)
    results = {r.playbook: r for r in playbook_results(ws)}
    rows = [
        PlaybookRow(
            p.name,
            p.spec.description,
            p.spec.enabled,
            p.spec.trigger.summary(),
            p.spec.priority,
            f"{p.spec.holdout:.0%}",
            p.version,
            results.get(p.name),
            _effect(results.get(p.name)),
        )
        for p in check.playbooks
    ]
    listed = {p.name for p in check.playbooks}
    rows += [
        PlaybookRow(name, "(its file is gone)", None, "—", None, f"{r.holdout_share:.0%}", "—", r, _effect(r))
        for name, r in results.items()
        if name not in listed
    ]
    return render(request, "playbooks.html.j2", title="Playbooks", rows=rows, problems=check.problems)
