"""Pages from Jinja2 templates, with the headers every dashboard answer carries, and charts as embedded JSON.

A chart is the report's Plotly figure (:mod:`retain.report.figures`) serialised to JSON inside a
``<script type="application/json">`` element, which the browser never runs; ``static/charts.js`` draws it with
the plotly.js that retain serves. The Content-Security-Policy lets a page load and run nothing but the server's
own files, so a page cannot reach the internet even by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from retain import __version__
from retain.web import _format

__all__ = ["SECURITY_HEADERS", "Chart", "chart", "render"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"

SECURITY_HEADERS = {
    # Plotly sets inline styles on the elements it draws, hence 'unsafe-inline' for styles only.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold customer data: never kept by a shared cache or the back button
}

_JSON_IN_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
"""JSON text that cannot end its ``<script>`` element, whatever a customer's name or a segment holds."""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    json: str
    """The figure as JSON, safe to place inside a ``<script>`` element."""
    note: str | None = None


def chart(chart_id: str, figure: go.Figure | None, note: str | None = None) -> Chart | None:
    """``figure`` ready for a page (``None`` when the snapshot has nothing to draw)."""
    if figure is None:
        return None
    return Chart(chart_id, figure.layout.title.text or chart_id, figure.to_json().translate(_JSON_IN_HTML), note)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails the page (and its test), not shows blank
    )
    env.filters.update(
        number=_format.fmt_number,
        probability=_format.fmt_probability,
        money=_format.fmt_money,
        instant=_format.fmt_instant,
        value=_format.fmt_value,
        segment=lambda text: quote(str(text), safe=""),  # one path segment, whatever an id holds
    )
    env.tests["missing"] = _format.is_missing
    return env


_ENV = _environment()


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered with ``context``, the signed-in session (if any) and the page's URL."""
    session = getattr(request.state, "web_session", None)
    page = _ENV.get_template(template).render(
        request=request,
        session=session,
        csrf_token=session.csrf_token if session is not None else None,
        version=__version__,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)
