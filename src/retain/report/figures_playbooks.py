"""The report's Playbooks section: per playbook, its arms on the goal metric and the effect with its interval.

The numbers are those of ``retain playbook results`` (:func:`retain.services.playbook_results.playbook_results`):
left, the goal metric per arm (treatment against holdout, with the customers of each); right, the difference
treatment − holdout with its 95 % interval, raw and CUPED-adjusted. The sample-ratio check and the minimum
detectable effect go into the table under the chart. A 0/1 goal (retained) is shown in percent and its effects in
percentage points, as the CLI shows them; other goals in their own units per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from retain.report._style import LAYOUT
from retain.services.playbook_results import PlaybookResult

__all__ = ["PlaybookSection", "playbook_facts", "playbook_figure", "playbook_section", "scale_of"]

_ARM_COLORS = {"treatment": "#2a9d8f", "holdout": "#adb5bd"}
_EFFECT_COLOR = "#1d3557"


@dataclass(frozen=True)
class PlaybookSection:
    """What the report shows for one playbook: a chart (``None`` before any goal window ended) and facts."""

    playbook: str
    figure: go.Figure | None
    facts: list[tuple[str, str]]
    summary: str


def scale_of(result: PlaybookResult) -> tuple[float, str, str]:
    """(scale, mean label, effect unit): ×100 in percent / points for a 0/1 goal, else the metric's own units."""
    u = result.uplift
    if u is not None and u.outcome_kind == "binary":
        return 100.0, f"{result.metric} (%)", "pts"
    return 1.0, f"mean {result.metric} per customer", f"{result.metric} per customer"


def playbook_figure(result: PlaybookResult) -> go.Figure | None:
    """The arms' goal metric (bars, with n) and the raw and CUPED effects with their intervals; ``None`` when
    nothing is measured yet."""
    u = result.uplift
    if u is None:
        return None
    scale, mean_label, unit = scale_of(result)
    level = f"{u.confidence:.0%}"
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        subplot_titles=("Goal metric per arm", f"Effect, treatment − holdout ({level} interval)"),
    )
    arms = [a for a in (u.treatment, u.holdout) if a.customers]
    fig.add_trace(
        go.Bar(
            x=[f"{a.arm} (n={a.customers:,})" for a in arms],
            y=[a.mean * scale for a in arms],
            customdata=[a.customers for a in arms],
            marker_color=[_ARM_COLORS[str(a.arm)] for a in arms],
            name="per arm",
            showlegend=False,
            hovertemplate="%{x}<br>%{y:,.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    estimates = [("raw", u.raw)] + ([("CUPED", u.cuped.estimate)] if u.cuped is not None else [])
    estimates = [(label, e) for label, e in estimates if e is not None]
    if estimates:
        fig.add_trace(
            go.Scatter(
                x=[label for label, _ in estimates],
                y=[e.effect * scale for _, e in estimates],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [(e.ci_high - e.effect) * scale for _, e in estimates],
                    "arrayminus": [(e.effect - e.ci_low) * scale for _, e in estimates],
                },
                customdata=[[e.ci_low * scale, e.ci_high * scale] for _, e in estimates],
                mode="markers",
                marker={"size": 11, "color": _EFFECT_COLOR},
                name="effect",
                showlegend=False,
                hovertemplate="%{x}: %{y:+,.2f}<br>interval %{customdata[0]:+,.2f} to %{customdata[1]:+,.2f}"
                "<extra></extra>",
            ),
            row=1,
            col=2,
        )
        fig.add_hline(y=0.0, line_dash="dash", line_color="#6c757d", row=1, col=2)
    fig.update_yaxes(title_text=mean_label, row=1, col=1)
    fig.update_yaxes(title_text=unit, row=1, col=2)
    fig.update_xaxes(type="category")
    goal = f"{result.metric} within {result.window_days} days"
    # Room above the two subplot titles for the figure's own.
    fig.update_layout(
        title=f"Playbook {result.playbook}: {goal}",
        **{**LAYOUT, "showlegend": False, "margin": {**LAYOUT["margin"], "t": 100}},
    )
    return fig


def playbook_facts(result: PlaybookResult) -> list[tuple[str, str]]:
    """The table under the chart: what was measured, the effects with their intervals, the SRM p-value, the MDE."""
    facts = [("measured", f"{result.measured:,} of {result.enrolled:,} enrolments (windows ended by the as-of)")]
    u = result.uplift
    if u is None:
        return facts
    scale, _, unit = scale_of(result)
    raw = u.raw
    if raw is None:
        facts.append(("effect", f"not measured: {u.reason}"))
    else:
        level = f"{u.confidence:.0%}"
        verdict = "" if raw.significant else " (not significant)"
        facts.append(
            (
                "effect (treatment − holdout)",
                f"{raw.effect * scale:+,.2f} {unit}, {level} interval {raw.ci_low * scale:+,.2f} to "
                f"{raw.ci_high * scale:+,.2f}, p = {raw.p_value:.3g}{verdict}",
            )
        )
        if u.cuped is not None:
            c = u.cuped.estimate
            facts.append(
                (
                    f"CUPED (pre-enrolment {result.metric})",
                    f"{c.effect * scale:+,.2f} {unit}, interval {c.ci_low * scale:+,.2f} to "
                    f"{c.ci_high * scale:+,.2f} ({u.cuped.width_change:+.0%} width)",
                )
            )
        facts.append(("minimum detectable effect", f"{raw.mde * scale:,.2f} {unit} at {u.power:.0%} power"))
    if u.sample_ratio is not None:
        verdict = "MISMATCH: check the enrolment" if u.srm else "ok"
        facts.append(
            (
                "sample ratio",
                f"{u.holdout.customers:,} held out of {u.treatment.customers + u.holdout.customers:,} for a "
                f"{result.holdout_share:.0%} share, p = {u.sample_ratio.p_value:.3g} ({verdict})",
            )
        )
    return facts


def playbook_section(result: PlaybookResult) -> PlaybookSection:
    """The chart, the table and the one-line summary of one playbook."""
    u = result.uplift
    summary = (
        u.summary(result.playbook, metric=result.metric)
        if u is not None
        else f"{result.playbook}: {result.enrolled:,} enrolled; no goal window has ended yet."
    )
    return PlaybookSection(result.playbook, playbook_figure(result), playbook_facts(result), summary)
