"""The report's Playbooks section: one chart per playbook whose numbers are those of ``retain playbook results``.

A tiny shop: eight customers enrolled in ``wake_up`` on 1 March (goal: orders within 30 days), four per arm, with
orders before and in the window written below; ``welcome`` enrolled two customers on 8 April, whose windows have
not ended at the snapshot's as-of. The report is written by ``retain report`` and the numbers are read back out
of the Plotly figure embedded in the HTML.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.contract.system_tables import SYSTEM_TABLES, SystemTableName
from retain.workspace import Workspace

runner = CliRunner(env={"COLUMNS": "250"})
MARCH = datetime(2024, 3, 1, tzinfo=UTC)  # pre-period (31 Jan, 1 Mar], window (1 Mar, 31 Mar]
APRIL = datetime(2024, 4, 8, tzinfo=UTC)  # window ends 8 May: after the data
# customer: (arm, orders before enrolment, orders in the window)
WAKE_UP = {
    "t1": ("treatment", 1, 2),
    "t2": ("treatment", 0, 1),
    "t3": ("treatment", 2, 3),
    "t4": ("treatment", 1, 1),
    "h1": ("holdout", 1, 1),
    "h2": ("holdout", 0, 0),
    "h3": ("holdout", 2, 2),
    "h4": ("holdout", 0, 1),
}
TREATMENT_MEAN, HOLDOUT_MEAN = (2 + 1 + 3 + 1) / 4, (1 + 0 + 2 + 1) / 4


def _orders_csv() -> str:
    lines = ["order_id,customer_id,ordered_at,amount,status"]
    for customer, (_, before, during) in WAKE_UP.items():
        lines += [f"{customer}-pre{i},{customer},2024-02-{10 + i}T00:00:00Z,20,completed" for i in range(before)]
        lines += [f"{customer}-in{i},{customer},2024-03-{10 + i}T00:00:00Z,30,completed" for i in range(during)]
    lines.append("late,t1,2024-04-10T00:00:00Z,40,completed")  # the latest fact: the snapshot's as-of follows it
    return "\n".join(lines) + "\n"


def _enrolments() -> pa.Table:
    rows = [("wake_up", c, arm, MARCH, "orders") for c, (arm, _, _) in WAKE_UP.items()]
    rows += [("welcome", c, arm, APRIL, "retained") for c, arm in (("t1", "treatment"), ("h1", "holdout"))]
    return pa.Table.from_pylist(
        [
            {
                "playbook": playbook,
                "playbook_version": "0123456789ab",
                "customer_id": customer,
                "trigger_key": "k1",
                "arm": arm,
                "enrolled_at": at,
                "goal_metric": metric,
                "goal_window_days": 30,
                "holdout_share": 0.5,
            }
            for playbook, customer, arm, at, metric in rows
        ],
        schema=SYSTEM_TABLES[SystemTableName.PLAYBOOK_ENROLMENTS].arrow_schema,
    )


def _cli(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _workspace(root: Path, *, enrolments: bool) -> Path:
    ws = Workspace.init(root / "ws")
    (root / "orders.csv").write_text(_orders_csv())
    assert ws.ingest("orders", root / "orders.csv").rows_rejected == 0
    if enrolments:
        assert ws.ingest(SystemTableName.PLAYBOOK_ENROLMENTS, _enrolments()).rows_rejected == 0
    _cli("refresh", "-w", str(ws.path))
    _cli("report", "-w", str(ws.path))
    return ws.path


def _figure(html: str, div_id: str) -> tuple[list[dict], dict]:
    """The data and layout Plotly draws in ``div_id``: the JSON arguments of its ``Plotly.newPlot`` call."""
    start = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', html)
    assert start is not None, f"no chart {div_id} in the report"
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(html, start.end())
    layout, _ = decoder.raw_decode(html, re.match(r",\s*", html[end:]).end() + end)
    return data, layout


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[str, list[dict]]:
    path = _workspace(tmp_path_factory.mktemp("report-playbooks"), enrolments=True)
    results = json.loads(_cli("playbook", "results", "-w", str(path), "--format", "json").stdout)
    return (path / "report.html").read_text(encoding="utf-8"), results


def test_the_chart_shows_the_numbers_of_playbook_results(report):
    html, results = report
    wake_up = next(r for r in results if r["playbook"] == "wake_up")
    u = wake_up["uplift"]
    assert (wake_up["metric"], wake_up["measured"], u["outcome_kind"]) == ("orders", 8, "numeric")
    # The hand-counted means, so the comparison below checks numbers that are right, not only equal.
    assert (u["arms"]["treatment"]["mean"], u["arms"]["holdout"]["mean"]) == (TREATMENT_MEAN, HOLDOUT_MEAN)
    assert u["effect"]["effect"] == pytest.approx(TREATMENT_MEAN - HOLDOUT_MEAN)

    (arms, effects), layout = _figure(html, "chart-playbook-wake_up")
    assert layout["title"]["text"] == "Playbook wake_up: orders within 30 days"
    assert arms["x"] == ["treatment (n=4)", "holdout (n=4)"] and arms["customdata"] == [4, 4]
    assert arms["y"] == pytest.approx([u["arms"]["treatment"]["mean"], u["arms"]["holdout"]["mean"]])
    raw, cuped = u["effect"], u["cuped"]
    assert effects["x"] == ["raw", "CUPED"]
    assert effects["y"] == pytest.approx([raw["effect"], cuped["effect"]])
    intervals = [value for pair in effects["customdata"] for value in pair]
    assert intervals == pytest.approx([raw["ci_low"], raw["ci_high"], cuped["ci_low"], cuped["ci_high"]])
    bars = effects["error_y"]
    assert bars["array"] == pytest.approx([raw["ci_high"] - raw["effect"], cuped["ci_high"] - cuped["effect"]])
    assert bars["arrayminus"] == pytest.approx([raw["effect"] - raw["ci_low"], cuped["effect"] - cuped["ci_low"]])

    # The table under the chart: the interval, CUPED, the MDE and the sample-ratio p-value, as the CLI rounds them.
    section = html[html.index('id="playbook-wake_up"') :]
    section = section[: section.index('id="playbook-welcome"')]
    assert f"+0.75 orders per customer, 95% interval {raw['ci_low']:+,.2f} to {raw['ci_high']:+,.2f}" in section
    assert f"{cuped['effect']:+,.2f} orders per customer, interval {cuped['ci_low']:+,.2f} to " in section
    assert f"{raw['mde']:,.2f} orders per customer at 80% power" in section
    srm = u["sample_ratio"]
    assert f"4 held out of 8 for a 50% share, p = {srm['p_value']:.3g} (ok)" in section


def test_a_playbook_still_in_its_window_gets_a_line_and_no_chart(report):
    html, results = report
    welcome = next(r for r in results if r["playbook"] == "welcome")
    assert (welcome["enrolled"], welcome["measured"], welcome["uplift"]) == (2, 0, None)
    assert "chart-playbook-welcome" not in html
    assert "welcome: 2 enrolled; no goal window has ended yet." in html
    assert 'id="no-playbooks"' not in html


def test_without_enrolments_the_section_says_so_in_one_line(tmp_path):
    html = (_workspace(tmp_path, enrolments=False) / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="section-playbooks"') :]
    section = section[: section.index("</section>")]
    assert "No playbook has enrolments yet" in section
    assert "chart-playbook-" not in section and "Plotly.newPlot" not in section
