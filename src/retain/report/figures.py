"""The report's charts: one function per chart, each from a marts snapshot to a Plotly figure (or ``None``).

A chart whose marts the snapshot lacks (no subscriptions → no MRR) returns ``None`` and the report leaves it
out, or shows the closest chart that applies (revenue instead of MRR for a shop).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from retain.report._style import LAYOUT as _LAYOUT
from retain.report.figures_risk import calibration_plot, lift_chart, risk_distribution
from retain.services import MartName, Snapshot, cohort_view, metrics_view, segments_view

__all__ = ["FIGURES", "cohort_heatmap", "kpi_trends", "lifecycle_sankey", "mrr_movements", "rfm_treemap"]
# The early-warning charts (risk distribution, lift, calibration) live in figures_risk.py.

_GAIN = {"new_mrr": "New", "expansion_mrr": "Expansion", "reactivation_mrr": "Reactivation", "resumed_mrr": "Resumed"}
_LOSS = {"contraction_mrr": "Contraction", "churned_mrr": "Churned", "paused_mrr": "Paused"}
_COLORS = {
    "New": "#2a9d8f",
    "Expansion": "#57cc99",
    "Reactivation": "#80ed99",
    "Resumed": "#b7e4c7",
    "Contraction": "#f4a261",
    "Churned": "#e63946",
    "Paused": "#adb5bd",
}


def _month(row: dict[str, Any]) -> str:
    return f"{row['period_start']:%Y-%m}" + ("" if row["complete"] else "*")


def kpi_trends(snapshot: Snapshot) -> go.Figure | None:
    """Customer retention and churn rates (voluntary, involuntary) by month."""
    rows = [r for r in metrics_view(snapshot, freq="month") if "retention" in r]
    if not rows:
        return None
    x = [_month(r) for r in rows]
    fig = go.Figure()
    for column, name, dash in (
        ("retention_rate", "Retention", "solid"),
        ("churn_rate", "Churn", "solid"),
        ("voluntary_churn_rate", "Voluntary churn", "dot"),
        ("involuntary_churn_rate", "Involuntary churn", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x, y=[r["retention"][column] for r in rows], name=name, mode="lines+markers", line={"dash": dash}
            )
        )
    fig.update_layout(title="Retention and churn by month", yaxis_title="% of customers at the start", **_LAYOUT)
    fig.update_xaxes(type="category")  # "2025-12*" (partial) must stay a label, not be parsed as a date
    return fig


def mrr_movements(snapshot: Snapshot) -> go.Figure | None:
    """MRR movements by month as stacked bars (gains up, losses down) with the net change; revenue for a shop."""
    rows = metrics_view(snapshot, freq="month")
    x = [_month(r) for r in rows]
    fig = go.Figure()
    if any("mrr" in r for r in rows):
        for column, name in _GAIN.items():
            fig.add_trace(
                go.Bar(x=x, y=[r.get("mrr", {}).get(column) for r in rows], name=name, marker_color=_COLORS[name])
            )
        for column, name in _LOSS.items():
            values = [-(r.get("mrr", {}).get(column) or 0.0) for r in rows]
            fig.add_trace(go.Bar(x=x, y=values, name=name, marker_color=_COLORS[name]))
        net = [r.get("mrr", {}).get("net_mrr_change") for r in rows]
        fig.add_trace(go.Scatter(x=x, y=net, name="Net change", mode="lines+markers", line={"color": "#1d3557"}))
        fig.update_layout(title="MRR movements by month", barmode="relative", yaxis_title="MRR", **_LAYOUT)
        fig.update_xaxes(type="category")
        return fig
    if any("commerce" in r for r in rows):
        fig.add_trace(
            go.Bar(x=x, y=[r["commerce"]["gross_revenue"] for r in rows], name="Sales", marker_color="#2a9d8f")
        )
        fig.add_trace(go.Bar(x=x, y=[-r["commerce"]["refunds"] for r in rows], name="Refunds", marker_color="#e63946"))
        fig.add_trace(
            go.Scatter(x=x, y=[r["commerce"]["revenue"] for r in rows], name="Net revenue", mode="lines+markers")
        )
        fig.update_layout(title="Revenue by month", barmode="relative", yaxis_title="revenue", **_LAYOUT)
        fig.update_xaxes(type="category")
        return fig
    return None


def cohort_heatmap(snapshot: Snapshot) -> go.Figure | None:
    """Share of each monthly signup cohort still active at each age."""
    if not snapshot.has(MartName.COHORTS):
        return None
    view = cohort_view(snapshot, measure="logo", shares=True)
    if not view.rows:
        return None
    z = [[None if v is None else round(100 * v, 1) for v in row["values"]] for row in view.rows]
    y = [f"{row['cohort']:%Y-%m} (n={row['cohort_size']:,.0f})" for row in view.rows]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"+{a}" for a in view.ages],
            y=y,
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": "%"},
            hovertemplate="cohort %{y}<br>age %{x} months<br>%{z}% still active<extra></extra>",
        )
    )
    layout = {**_LAYOUT, "height": max(420, 22 * len(y) + 140)}
    fig.update_layout(title="Cohort retention by signup month", xaxis_title="months since signup", **layout)
    fig.update_yaxes(autorange="reversed")
    return fig


def rfm_treemap(snapshot: Snapshot) -> go.Figure | None:
    """RFM segments as a treemap: area = customers, colour = revenue per customer."""
    rows = segments_view(snapshot).get("rfm")
    if not rows:
        return None
    fig = go.Figure(
        go.Treemap(
            labels=[r["segment"] for r in rows],
            parents=[""] * len(rows),
            values=[r["customers"] for r in rows],
            marker={
                "colors": [r["revenue"] / r["customers"] if r["customers"] else 0 for r in rows],
                "colorscale": "Teal",
                "showscale": True,
                "colorbar": {"title": "revenue / customer"},
            },
            customdata=[[r["revenue"], r["share"]] for r in rows],
            texttemplate="%{label}<br>%{value:,} customers<br>%{customdata[1]}%",
            hovertemplate="%{label}<br>%{value:,} customers<br>revenue %{customdata[0]:,.2f}<extra></extra>",
        )
    )
    fig.update_layout(title="RFM segments", **_LAYOUT)
    return fig


def _is_month_start(moment) -> bool:
    return moment == moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def lifecycle_sankey(snapshot: Snapshot) -> go.Figure | None:
    """Customers moving between lifecycle states over the last complete month (the last month if none is)."""
    if not snapshot.has(MartName.LIFECYCLE_FLOWS):
        return None
    flows = snapshot.read(MartName.LIFECYCLE_FLOWS).to_pylist()
    if not flows:
        return None
    complete = sorted({f["period_start"] for f in flows if _is_month_start(f["period_end"])})
    month = complete[-1] if complete else max(f["period_start"] for f in flows)
    chosen = [f for f in flows if f["period_start"] == month]
    sources = sorted({f["from_state"] for f in chosen})
    targets = sorted({f["to_state"] for f in chosen})
    labels = [f"{s} (start)" for s in sources] + [f"{t} (end)" for t in targets]
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 14, "thickness": 16},
            link={
                "source": [sources.index(f["from_state"]) for f in chosen],
                "target": [len(sources) + targets.index(f["to_state"]) for f in chosen],
                "value": [f["customers"] for f in chosen],
            },
        )
    )
    fig.update_layout(title=f"Lifecycle flows, {month:%B %Y}", **_LAYOUT)
    return fig


FIGURES = {
    "kpi-trends": kpi_trends,
    "mrr-movements": mrr_movements,
    "cohort-heatmap": cohort_heatmap,
    "rfm-segments": rfm_treemap,
    "lifecycle-flows": lifecycle_sankey,
    "risk-distribution": risk_distribution,
    "lift-chart": lift_chart,
    "calibration-plot": calibration_plot,
}
"""Chart id → figure function, in the order the report shows them."""
