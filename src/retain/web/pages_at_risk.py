"""The at-risk list: the filters of ``retain at-risk`` (minimum risk, segment, reason), a sort, a CSV export, and
each customer linking to their page."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from retain import services
from retain.contract.taxonomy import ReasonCode
from retain.display.export import write_csv
from retain.services.auth import WebSession
from retain.web._render import SECURITY_HEADERS, render
from retain.web._route import PageRoute
from retain.web._session import signed_in, workspace
from retain.workspace import Workspace

__all__ = ["SORTS", "router"]

router = APIRouter(route_class=PageRoute)

SORTS = {
    "expected_loss": ("expected loss (the rank)", "rank", True),
    "p_churn": ("churn risk", "p_churn", False),
    "value_if_retained": ("value if retained", "value_if_retained", False),
    "health": ("health, lowest first", "health", True),
}
"""Sort key → (label, column, ascending). The list is always who to act on by expected loss; a sort re-orders it."""

_SHOW = (20, 50, 100, 500)
_EXPORT_FIRST = ("rank", "customer_id", "name", "email", *services.AT_RISK_COLUMNS)


def _segment_names(ws: Workspace) -> list[str]:
    data = services.segments(ws).data
    names = [row["segment"] for row in data.get("user", [])] + [row["segment"] for row in data.get("rfm", [])]
    return names + [row["state"] for row in data.get("lifecycle", [])]


def _listed(ws: Workspace, top: int | None, min_risk: float | None, segment: str, reason: str, sort: str):
    listed = services.at_risk(
        ws,
        top=top,
        min_risk=None if min_risk is None else min_risk / 100,
        segment=segment or None,
        reason=reason or None,
    )
    _, column, ascending = SORTS.get(sort, SORTS["expected_loss"])
    rows = listed.rows
    if column in rows.columns and column != "rank":
        rows = rows.sort_values([column, "rank"], ascending=[ascending, True], na_position="last", kind="stable")
    return listed, rows


MinRisk = Annotated[float | None, Query(ge=0, le=100, description="Minimum churn risk, in percent.")]


@router.get("/at-risk")
def at_risk_page(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    _session: Annotated[WebSession, Depends(signed_in)],
    min_risk: MinRisk = None,
    segment: str = "",
    reason: str = "",
    sort: str = "expected_loss",
    show: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> Response:
    listed, rows = _listed(ws, show, min_risk, segment, reason, sort)
    shop = str(listed.business_model) == "commerce"
    return render(
        request,
        "at_risk.html.j2",
        title="At risk",
        listed=listed,
        rows=rows.to_dict("records"),
        shop=shop,
        expected_loss=float(rows["expected_loss"].sum()) if len(rows) else 0.0,
        filters={"min_risk": min_risk, "segment": segment, "reason": reason, "sort": sort, "show": show},
        segments=_segment_names(ws),
        reasons=[code.value for code in ReasonCode],
        sorts={key: label for key, (label, _, _) in SORTS.items()},
        shows=sorted({*_SHOW, show}),
        query=request.url.query,
    )


@router.get("/at-risk.csv")
def at_risk_csv(
    ws: Annotated[Workspace, Depends(workspace)],
    _session: Annotated[WebSession, Depends(signed_in)],
    min_risk: MinRisk = None,
    segment: str = "",
    reason: str = "",
    sort: str = "expected_loss",
) -> Response:
    """Every customer the filters keep (not only the page's first rows), with name and email, for a CRM."""
    listed, rows = _listed(ws, None, min_risk, segment, reason, sort)
    leading = [c for c in dict.fromkeys(_EXPORT_FIRST) if c in rows.columns]
    out = io.StringIO()
    write_csv(rows.to_dict("records"), out, columns=leading + [c for c in rows.columns if c not in leading])
    name = f"at-risk-{listed.as_of:%Y%m%d}.csv"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
