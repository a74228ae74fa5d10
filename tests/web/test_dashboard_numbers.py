"""The overview shows the numbers of ``retain metrics --format json``: in its tiles, its KPI table and the data of
the charts Plotly drew in the page."""

from __future__ import annotations

import json

import pytest
from cli_json import retain_json
from dashboard_users import WRITER

# How the CLI prints each KPI (written out here, not taken from retain's code): rates with one decimal and a %,
# money without decimals, NPS with one decimal.
TILE_FORMATS = {
    "retention.retention_rate": "{:,.1f}%",
    "retention.churn_rate": "{:,.1f}%",
    "retention.voluntary_churn_rate": "{:,.1f}%",
    "retention.involuntary_churn_rate": "{:,.1f}%",
    "mrr.ending_mrr": "{:,.0f}",
    "mrr.nrr": "{:,.1f}%",
    "mrr.grr": "{:,.1f}%",
    "satisfaction.nps": "{:,.1f}",
}


@pytest.fixture(scope="module")
def metrics(company) -> dict:
    return retain_json("metrics", "-w", str(company.path))


def _value(period: dict, kpi: str):
    section, column = kpi.split(".")
    return period[section][column]


def _label(period: dict) -> str:
    return period["period_start"][:7] + ("" if period["complete"] else "*")


def test_the_cli_numbers_follow_the_definitions(metrics):
    # The reference itself, checked by hand-computable identities: retention = retained / start, and the churn
    # kinds add up to churn.
    for period in metrics["periods"]:
        r = period["retention"]
        if r["start_customers"]:
            assert r["retention_rate"] == pytest.approx(100 * r["retained"] / r["start_customers"])
            assert r["churn_rate"] == pytest.approx(r["voluntary_churn_rate"] + r["involuntary_churn_rate"])


def test_tiles_show_the_last_complete_month_as_the_cli_prints_it(visit, metrics):
    visit.sign_in(*WRITER)
    visit.open("/dashboard/")
    complete = [p for p in metrics["periods"] if p["complete"]]
    last, before = complete[-1], complete[-2]
    for kpi, form in TILE_FORMATS.items():
        tile = visit.page.locator(f'.tile[data-kpi="{kpi}"]')
        assert tile.locator(".value").inner_text() == form.format(_value(last, kpi)), kpi
        assert tile.locator(".previous").inner_text() == "before: " + form.format(_value(before, kpi)), kpi


def test_kpi_table_rows_are_the_cli_periods(visit, metrics):
    visit.sign_in(*WRITER)
    visit.open("/dashboard/")
    headers = visit.page.locator("#kpi-table thead th").all_inner_texts()[1:]
    assert headers == [_label(p) for p in metrics["periods"]]
    for kpi, form in TILE_FORMATS.items():
        cells = visit.page.locator(f'#kpi-table tr[data-kpi="{kpi}"] td').all_inner_texts()
        assert cells == [form.format(_value(p, kpi)) for p in metrics["periods"]], kpi


def _drawn(visit, chart: str) -> dict[str, dict[str, float]]:
    """Trace name → {x label: y} of the figure Plotly drew (``gd.data``), and check the embedded JSON is the same."""
    traces = visit.page.evaluate(
        f"() => document.getElementById('chart-{chart}').data.map(t => ({{name: t.name, x: t.x, y: t.y}}))"
    )
    embedded = json.loads(visit.page.locator(f"#chart-{chart}-data").text_content())["data"]
    assert [t["y"] for t in traces] == [t["y"] for t in embedded]
    return {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in traces}


def test_charts_draw_the_cli_numbers(visit, metrics):
    visit.sign_in(*WRITER)
    visit.open("/dashboard/")
    visit.page.locator("#chart-kpi-trends svg.main-svg").first.wait_for(state="attached")
    trends = _drawn(visit, "kpi-trends")
    movements = _drawn(visit, "mrr-movements")
    for period in metrics["periods"]:
        x = _label(period)
        assert trends["Retention"][x] == pytest.approx(period["retention"]["retention_rate"])
        assert trends["Churn"][x] == pytest.approx(period["retention"]["churn_rate"])
        assert trends["Voluntary churn"][x] == pytest.approx(period["retention"]["voluntary_churn_rate"])
        assert trends["Involuntary churn"][x] == pytest.approx(period["retention"]["involuntary_churn_rate"])
        assert movements["New"][x] == pytest.approx(period["mrr"]["new_mrr"])
        assert movements["Churned"][x] == pytest.approx(-period["mrr"]["churned_mrr"])  # losses are drawn down
        assert movements["Net change"][x] == pytest.approx(period["mrr"]["net_mrr_change"])
