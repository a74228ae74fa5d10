"""The overview (headline KPIs, retention and churn, MRR movements, the KPI table), cohorts and segments.

Numbers come from the services the CLI calls (``services.metrics``, ``services.segments``) and are formatted by
the CLI's rules; charts are the report's figures of the current snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from retain import services
from retain.analytics.periods import Freq
from retain.display.kpis import DEFAULT_KPIS, SUBSCRIPTION_ONLY_KPIS, Kpi, period_label, shop_label
from retain.report.figures import cohort_heatmap, kpi_trends, lifecycle_sankey, mrr_movements, rfm_treemap
from retain.services.auth import WebSession
from retain.web._format import fmt_number
from retain.web._render import chart, render
from retain.web._route import PageRoute
from retain.web._session import signed_in, workspace
from retain.workspace import Workspace

__all__ = ["TILE_KPIS", "Tile", "router"]

router = APIRouter(route_class=PageRoute)

TILE_KPIS = (
    ("retention.retention_rate", "Retention"),
    ("retention.churn_rate", "Churn"),
    ("retention.voluntary_churn_rate", "Voluntary churn"),
    ("retention.involuntary_churn_rate", "Involuntary churn"),
    ("mrr.ending_mrr", "MRR"),
    ("mrr.nrr", "NRR"),
    ("mrr.grr", "GRR"),
    ("commerce.revenue", "Revenue"),
    ("commerce.aov", "AOV"),
    ("satisfaction.nps", "NPS"),
    ("satisfaction.csat", "CSAT"),
)
"""The overview's headline tiles (``section.column`` of the metrics view, label), of the last complete month."""

_SEGMENT_TABLES = (
    ("rfm", "RFM segments", "segment"),
    ("lifecycle", "Lifecycle states", "state"),
    ("user", "Your segments (retain.toml)", "segment"),
)
_KPI = {kpi.name: kpi for kpi in DEFAULT_KPIS}
_TABLE_PERIODS = 12  # what `retain metrics` shows by default


@dataclass(frozen=True)
class Tile:
    kpi: str
    """``section.column`` of the metrics view (the page marks each tile with it)."""
    label: str
    value: str
    previous: str | None


def _shown(row: dict[str, Any], kpi: Kpi) -> str:
    return fmt_number(row.get(kpi.section, {}).get(kpi.column), kpi.digits, kpi.suffix)


def _tiles(rows: list[dict[str, Any]], shop: bool) -> tuple[list[Tile], str | None]:
    months = [r for r in rows if r["complete"]]
    if not months:
        return [], None
    last, before = months[-1], (months[-2] if len(months) > 1 else None)
    tiles = []
    for name, label in TILE_KPIS:
        kpi = _KPI[name]
        if kpi.section not in last or (shop and name in SUBSCRIPTION_ONLY_KPIS):
            continue
        tiles.append(Tile(name, label, _shown(last, kpi), None if before is None else _shown(before, kpi)))
    return tiles, f"{last['period_start']:%B %Y}"


def _table(rows: list[dict[str, Any]], shop: bool, window_days: int) -> dict[str, Any]:
    present = {section for row in rows for section, values in row.items() if isinstance(values, dict)}
    kpis = [k for k in DEFAULT_KPIS if k.section in present and not (shop and k.name in SUBSCRIPTION_ONLY_KPIS)]
    if shop:
        kpis = [shop_label(k, window_days) for k in kpis]
    return {
        "periods": [period_label(r["period_start"], Freq.MONTH, r["complete"]) for r in rows],
        "rows": [
            {"kpi": k.name, "label": k.label, "child": k.parent is not None, "cells": [_shown(r, k) for r in rows]}
            for k in kpis
        ],
    }


@router.get("/")
def overview(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    _session: Annotated[WebSession, Depends(signed_in)],
) -> Response:
    view = services.metrics(ws, freq=Freq.MONTH, last=_TABLE_PERIODS)
    snapshot = services.require_snapshot(ws)
    shop = view.business_model == "commerce"
    tiles, month = _tiles(view.data, shop)
    charts = [
        chart(
            "kpi-trends",
            kpi_trends(snapshot),
            "Retention = (E − N) / S; churn = customers lost / S (S, E: "
            "customers active at the start and end of the month; N: new during it). * a partial month.",
        ),
        chart("mrr-movements", mrr_movements(snapshot)),
    ]
    return render(
        request,
        "overview.html.j2",
        title="Overview",
        view=view,
        tiles=tiles,
        month=month,
        table=_table(view.data, shop, view.activity_window_days),
        charts=[c for c in charts if c is not None],
    )


@router.get("/cohorts")
def cohorts(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    _session: Annotated[WebSession, Depends(signed_in)],
) -> Response:
    snapshot = services.require_snapshot(ws)
    heatmap = chart(
        "cohort-heatmap",
        cohort_heatmap(snapshot),
        "Each row is the customers who started in that month; cells show the share still active at each age.",
    )
    return render(
        request,
        "charts.html.j2",
        title="Cohorts",
        snapshot=snapshot,
        charts=[heatmap] if heatmap else [],
        empty="No signup cohorts in this snapshot yet.",
        tables=[],
    )


@router.get("/segments")
def segments(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    _session: Annotated[WebSession, Depends(signed_in)],
) -> Response:
    view = services.segments(ws)
    snapshot = services.require_snapshot(ws)
    charts = [chart("rfm-segments", rfm_treemap(snapshot)), chart("lifecycle-flows", lifecycle_sankey(snapshot))]
    tables = []
    for key, title, first in _SEGMENT_TABLES:
        if view.data.get(key):
            columns = [(first, first, "text"), ("customers", "customers", "int"), ("share", "share", "pct")]
            if key == "rfm":
                columns.append(("revenue", "revenue", "money"))
            tables.append({"id": key, "title": title, "columns": columns, "rows": view.data[key]})
    return render(
        request,
        "charts.html.j2",
        title="Segments",
        snapshot=snapshot,
        charts=[c for c in charts if c is not None],
        empty="No segments in this snapshot yet.",
        tables=tables,
    )
