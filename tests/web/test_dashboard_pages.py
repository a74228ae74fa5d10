"""Every page of the dashboard in Chromium: it renders after signing in, its screenshot is a drawn page (not
blank), its charts are drawn, and nothing it loads comes from anywhere but the server — at 1280 px and on a
390 px phone screen."""

from __future__ import annotations

import re

import pytest
from dashboard_users import WRITER
from pixels import assert_not_blank

PAGES = {
    "/dashboard/": ("Overview", ["kpi-trends", "mrr-movements"]),
    "/dashboard/cohorts": ("Cohorts", ["cohort-heatmap"]),
    "/dashboard/segments": ("Segments", ["rfm-segments", "lifecycle-flows"]),
    "/dashboard/at-risk": ("At risk", []),
    "/dashboard/playbooks": ("Playbooks", []),
    "/dashboard/tasks": ("Tasks", []),
}


def _first_customer(visit) -> str:
    visit.open("/dashboard/at-risk")
    return visit.page.locator("#at-risk tbody tr").first.get_attribute("data-customer")


def test_every_page_renders_with_its_charts_and_is_not_blank(visit):
    visit.sign_in(*WRITER)
    pages = dict(PAGES)
    pages[f"/dashboard/customers/{_first_customer(visit)}"] = ("Customer", [])
    for path, (heading, charts) in pages.items():
        response = visit.open(path)
        assert response.status == 200, path
        assert visit.page.title().startswith(heading), path
        for chart in charts:
            # Plotly has drawn the figure: an SVG inside the chart's div, with the figure's title.
            drawn = visit.page.locator(f"#chart-{chart} svg.main-svg").first
            drawn.wait_for(state="attached", timeout=20_000)
        assert_not_blank(visit.page.screenshot(full_page=True))
    assert visit.elsewhere == []
    assert visit.errors == []


def test_on_a_narrow_screen_pages_fit_the_width_and_are_not_blank(narrow_visit):
    narrow_visit.sign_in(*WRITER)
    for path in ("/dashboard/", "/dashboard/at-risk", "/dashboard/tasks"):
        narrow_visit.open(path)
        width = narrow_visit.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, (path, width)  # wide tables scroll inside their box, not the page
        assert_not_blank(narrow_visit.page.screenshot(full_page=True))
    assert narrow_visit.elsewhere == []


_URL = re.compile(r"""https?://[^\s"'<>()]+""")
_PROTOCOL_RELATIVE = re.compile(r"""(?:src|href|action)\s*=\s*["']?//""")


@pytest.mark.parametrize("path", [*PAGES, "/dashboard/static/dashboard.css", "/dashboard/static/charts.js"])
def test_pages_and_assets_reference_no_other_server(visit, path):
    visit.sign_in(*WRITER)
    body = visit.page.request.get(visit.base + path).text()
    foreign = [url for url in _URL.findall(body) if not url.startswith(visit.base)]
    assert foreign == [] and _PROTOCOL_RELATIVE.findall(body) == []


def test_plotly_js_is_the_plotly_package_bundle(visit):
    from plotly.offline import get_plotlyjs

    served = visit.page.request.get(visit.base + "/dashboard/static/plotly.min.js")
    assert served.status == 200 and served.headers["content-type"].startswith("text/javascript")
    assert served.text() == get_plotlyjs()
    assert visit.page.request.get(visit.base + "/dashboard/static/retain.toml").status == 404


def test_an_unknown_customer_is_a_404_page_saying_so(visit):
    visit.sign_in(*WRITER)
    response = visit.open("/dashboard/customers/NOPE-1")
    assert response.status == 404
    assert visit.page.inner_text(".message").startswith("No customer 'NOPE-1' in the analytics snapshot")
    assert visit.page.title() == "Cannot show this · retain"


def test_a_bad_filter_is_a_page_naming_the_valid_values(visit):
    visit.sign_in(*WRITER)
    response = visit.open("/dashboard/at-risk?segment=nope")
    assert response.status == 422
    assert "No segment 'nope'" in visit.page.inner_text(".message")
    response = visit.open("/dashboard/at-risk?min_risk=150")
    assert response.status == 422 and "min_risk" in visit.page.inner_text(".message")
