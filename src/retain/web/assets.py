"""The dashboard's static files: its stylesheet and script, and plotly.js from the plotly package itself.

Served by retain (no CDN), with a day of caching: they change only with retain's version.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from retain.errors import NotFoundError
from retain.web._route import PageRoute

__all__ = ["ASSETS", "router"]

_STATIC = Path(__file__).resolve().parent / "static"
ASSETS: dict[str, tuple[Path, str]] = {
    "dashboard.css": (_STATIC / "dashboard.css", "text/css"),
    "charts.js": (_STATIC / "charts.js", "text/javascript"),
    # The same bundle plotly.offline.get_plotlyjs() reads, and the report inlines.
    "plotly.min.js": (Path(str(files("plotly") / "package_data" / "plotly.min.js")), "text/javascript"),
}
"""Every file the dashboard serves, by name: nothing else under /dashboard/static is readable."""

router = APIRouter(route_class=PageRoute)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None:
        raise NotFoundError(f"No dashboard file {name!r}; the files are {', '.join(sorted(ASSETS))}.")
    path, media_type = found
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
