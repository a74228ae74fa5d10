"""The report's early-warning charts and table, from the ``at_risk`` and ``churn_calibration`` marts.

Both marts exist only when the workspace had a trained churn model at refresh time; without them every
function here returns ``None`` and the report says how to get them (train a model, refresh).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from retain.report._style import LAYOUT
from retain.services import AT_RISK_COLUMNS, MartName, Snapshot

__all__ = ["calibration_plot", "lift_chart", "risk_distribution", "top_at_risk"]


_BIN_WIDTH = 0.05  # histogram bins of 5 percentage points of churn probability


def _horizon(snapshot: Snapshot, mart: MartName) -> tuple[str, int]:
    row = snapshot.read(mart, columns=["model_version", "horizon_days"]).slice(0, 1).to_pylist()[0]
    return row["model_version"], row["horizon_days"]


def risk_distribution(snapshot: Snapshot) -> go.Figure | None:
    """Histogram of the customers' churn probability (5-point bins), from the ``at_risk`` mart."""
    if not snapshot.has(MartName.AT_RISK):
        return None
    p_churn = snapshot.read(MartName.AT_RISK, columns=["p_churn"]).column("p_churn").to_pylist()
    if not p_churn:
        return None
    version, horizon = _horizon(snapshot, MartName.AT_RISK)
    fig = go.Figure(
        go.Histogram(
            x=[100.0 * p for p in p_churn],
            xbins={"start": 0.0, "end": 100.0, "size": 100.0 * _BIN_WIDTH},
            marker_color="#e76f51",
            hovertemplate="P(churn) %{x}%<br>%{y:,} customers<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Churn risk distribution ({len(p_churn):,} customers, model {version})",
        xaxis_title=f"probability of churning within {horizon} days (%)",
        yaxis_title="customers",
        bargap=0.05,
        **LAYOUT,
    )
    fig.update_xaxes(range=[0, 100])
    return fig


def _calibration_rows(snapshot: Snapshot) -> list[dict[str, Any]] | None:
    if not snapshot.has(MartName.CHURN_CALIBRATION):
        return None
    rows = snapshot.read(MartName.CHURN_CALIBRATION).to_pylist()
    return rows or None


def lift_chart(snapshot: Snapshot) -> go.Figure | None:
    """Observed churn of each predicted-risk decile of the backtest, relative to the average (lift)."""
    rows = _calibration_rows(snapshot)
    if rows is None:
        return None
    rows = sorted(rows, key=lambda r: r["decile"])
    labels = [f"{r['decile']}" + (" (riskiest)" if r["decile"] == 1 else "") for r in rows]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[r["lift"] for r in rows],
            marker_color="#e63946",
            customdata=[[100 * r["observed_rate"], r["count"]] for r in rows],
            hovertemplate="decile %{x}<br>lift %{y:.2f}×<br>churned %{customdata[0]:.1f}% of "
            "%{customdata[1]:,}<extra></extra>",
        )
    )
    fig.add_hline(y=1.0, line_dash="dash", line_color="#6c757d", annotation_text="average")
    fig.update_layout(
        title=f"Lift by risk decile (temporal backtest, ROC-AUC {rows[0]['roc_auc']:.3f})",
        xaxis_title="decile of predicted risk",
        yaxis_title="observed churn / average churn",
        **LAYOUT,
    )
    fig.update_xaxes(type="category")
    return fig


def calibration_plot(snapshot: Snapshot) -> go.Figure | None:
    """Predicted versus observed churn rate per decile of the backtest, against the diagonal of perfect calibration."""
    rows = _calibration_rows(snapshot)
    if rows is None:
        return None
    rows = sorted(rows, key=lambda r: r["bin"])
    predicted = [100 * r["predicted_mean"] for r in rows]
    observed = [100 * r["observed_rate"] for r in rows]
    top = max(max(predicted), max(observed), 1.0) * 1.05
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], name="perfect calibration", mode="lines", line={"dash": "dash"}))
    fig.add_trace(
        go.Scatter(
            x=predicted,
            y=observed,
            name="model (deciles)",
            mode="lines+markers",
            customdata=[r["count"] for r in rows],
            hovertemplate="predicted %{x:.1f}%<br>observed %{y:.1f}%<br>%{customdata:,} rows<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Calibration (temporal backtest, Brier {rows[0]['brier']:.4f})",
        xaxis_title="predicted churn (%)",
        yaxis_title="observed churn (%)",
        **LAYOUT,
    )
    return fig


def top_at_risk(snapshot: Snapshot, n: int = 20) -> list[dict[str, Any]] | None:
    """The first ``n`` customers of the ``at_risk`` mart (rank order), or ``None`` when the snapshot has none."""
    if not snapshot.has(MartName.AT_RISK):
        return None
    table = snapshot.read(MartName.AT_RISK, columns=list(AT_RISK_COLUMNS))
    return sorted(table.to_pylist(), key=lambda r: r["rank"])[:n]
