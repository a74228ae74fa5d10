"""Render the HTML report: the figures of :mod:`.figures` and the tiles of :mod:`.tiles` in a Jinja2 template.

The plotly.js bundle is inlined once in the page head and each chart is a ``<div>`` plus a small script, so the
file opens without any network access.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from retain import __version__
from retain.errors import InputError
from retain.report.figures import FIGURES
from retain.report.figures_playbooks import playbook_section
from retain.report.figures_risk import top_at_risk
from retain.report.tiles import headline_tiles
from retain.services import Snapshot
from retain.services.playbook_results import PlaybookResult

__all__ = ["ChartHtml", "PlaybookHtml", "render_report", "write_report"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_NOTES = {
    "kpi-trends": "Retention = (E − N) / S; churn = customers lost / S (S, E: customers active at the start and end "
    "of the month; N: new during it).",
    "cohort-heatmap": "Each row is the customers who started in that month; cells show the share still active.",
    "lift-chart": "Test customer-months of the temporal backtest (later than any the model trained on), cut into "
    "tenths by predicted risk; lift 3× means that tenth churned three times as often as average.",
    "calibration-plot": "Each point is one tenth of the backtest rows by predicted risk: on the diagonal, predicted "
    "churn matches what happened.",
}
_RISK_CHARTS = ("risk-distribution", "lift-chart", "calibration-plot")
"""Charts of the churn model: without one the report says how to get them instead of listing them as missing."""
_TOP_AT_RISK = 20


@dataclass(frozen=True)
class ChartHtml:
    id: str
    title: str
    html: str
    note: str | None


@dataclass(frozen=True)
class PlaybookHtml:
    """One playbook of the Playbooks section: its chart (``None`` before a goal window ended) and its table."""

    playbook: str
    html: str | None
    facts: list[tuple[str, str]]
    summary: str


def _chart_html(figure: go.Figure, chart_id: str) -> str:
    return pio.to_html(
        figure,
        include_plotlyjs=False,  # the bundle is inlined once in the page head
        full_html=False,
        div_id=f"chart-{chart_id}",
        config={"displaylogo": False, "responsive": True},
    )


def _playbooks(results: Sequence[PlaybookResult]) -> list[PlaybookHtml]:
    out = []
    for result in results:
        section = playbook_section(result)
        html = None if section.figure is None else _chart_html(section.figure, f"playbook-{result.playbook}")
        out.append(PlaybookHtml(result.playbook, html, section.facts, section.summary))
    return out


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"])
    )


def render_report(
    snapshot: Snapshot,
    *,
    playbooks: Sequence[PlaybookResult] = (),
    title: str = "Customer retention report",
) -> str:
    """The report of ``snapshot`` as one self-contained HTML document (a string).

    ``playbooks`` are the measured effects to chart, one chart per playbook (the report command passes
    ``playbook_results(ws, as_of=snapshot.as_of)``); without any, the Playbooks section says there are none yet.
    """
    charts, missing = [], []
    at_risk = top_at_risk(snapshot, _TOP_AT_RISK)
    for chart_id, make in FIGURES.items():
        figure = make(snapshot)
        if figure is None:
            if at_risk is not None or chart_id not in _RISK_CHARTS:
                missing.append(chart_id.replace("-", " "))
            continue
        html = _chart_html(figure, chart_id)
        charts.append(ChartHtml(chart_id, figure.layout.title.text or chart_id, html, _NOTES.get(chart_id)))
    manifest = snapshot.manifest
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            version=__version__,
            plotly_js=get_plotlyjs(),
            as_of=f"{snapshot.as_of:%Y-%m-%d %H:%M}",
            model=manifest.get("model", ""),
            engine=manifest.get("engine", ""),
            snapshot_id=snapshot.id,
            tiles=headline_tiles(snapshot),
            charts=charts,
            missing=missing,
            at_risk=at_risk,
            playbooks=_playbooks(playbooks),
        )
    )


def write_report(
    snapshot: Snapshot,
    out: str | os.PathLike[str],
    *,
    playbooks: Sequence[PlaybookResult] = (),
    title: str = "Customer retention report",
) -> Path:
    """Write the report of ``snapshot`` (and the ``playbooks`` results) to ``out`` (atomically: temporary file,
    then rename) and return its path.

    Raises
    ------
    InputError
        If ``out`` exists and is not a regular file (a folder, a symbolic link, a device or a pipe): a report
        replaces an older report, never anything else.
    """
    out = Path(out)
    try:
        mode = out.lstat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "folder" if stat.S_ISDIR(mode) else "symbolic link" if stat.S_ISLNK(mode) else "special file"
        instead = out / "report.html" if stat.S_ISDIR(mode) else out.parent / "report.html"
        raise InputError(
            f"{out} is a {kind}, not a report file; refusing to replace it. Pass a file name such as {instead} "
            "(an existing report file is replaced)."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp")
    temp.write_text(render_report(snapshot, playbooks=playbooks, title=title), encoding="utf-8")
    os.replace(temp, out)
    return out
