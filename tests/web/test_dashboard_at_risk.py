"""The at-risk list in the browser: the filters give what ``retain at-risk`` gives, the sort re-orders, the CSV
export carries every match, and a row opens the customer's page with their risk, reasons, timeline and messages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from cli_json import retain_json
from dashboard_users import WRITER

MIN_RISK = 5  # percent


@pytest.fixture(scope="module")
def cli_list(company) -> dict:
    return retain_json("at-risk", "-w", str(company.path), "--all", "--min-risk", str(MIN_RISK / 100))


def _filter(visit, **fields: str) -> None:
    visit.open("/dashboard/at-risk")
    form = visit.page.locator("#at-risk-filters")
    if "min_risk" in fields:
        form.locator("input[name=min_risk]").fill(fields["min_risk"])
    for name in ("segment", "reason", "sort", "show"):
        if name in fields:
            form.locator(f"select[name={name}]").select_option(fields[name])
    form.locator("button[type=submit]").click()
    visit.page.wait_for_load_state("networkidle")


def _ids(visit) -> list[str]:
    return [row.get_attribute("data-customer") for row in visit.page.locator("#at-risk tbody tr[data-customer]").all()]


def test_min_risk_keeps_what_the_cli_keeps_in_the_same_order(visit, cli_list):
    visit.sign_in(*WRITER)
    _filter(visit, min_risk=str(MIN_RISK), show="500")
    expected = [c["customer_id"] for c in cli_list["customers"]]
    assert 0 < len(expected) < cli_list["customers_scored"]  # the filter keeps some, not all
    assert _ids(visit) == expected
    risks = visit.page.locator("#at-risk td.risk").all_inner_texts()
    assert risks == [f"{c['p_churn']:.0%}" for c in cli_list["customers"]]
    assert f"{len(expected)} of {cli_list['customers_scored']} customers match" in visit.page.inner_text(".meta")


def test_reason_filter_and_sort_by_risk(visit, cli_list, company):
    visit.sign_in(*WRITER)
    code = cli_list["customers"][0]["reason_code"]
    _filter(visit, min_risk=str(MIN_RISK), reason=code, sort="p_churn", show="500")
    wanted = [c for c in cli_list["customers"] if c["reason_code"] == code]
    by_risk = sorted(wanted, key=lambda c: (-c["p_churn"], c["rank"]))
    assert _ids(visit) == [c["customer_id"] for c in by_risk]
    assert set(visit.page.locator("#at-risk td.reason").all_inner_texts()) == {code}


def test_csv_export_has_every_match_with_contacts(visit, cli_list):
    visit.sign_in(*WRITER)
    _filter(visit, min_risk=str(MIN_RISK), show="20")
    with visit.page.expect_download() as started:
        visit.page.click("text=Export CSV")
    rows = list(csv.DictReader(io.StringIO(Path(started.value.path()).read_text(encoding="utf-8"))))
    assert [r["customer_id"] for r in rows] == [c["customer_id"] for c in cli_list["customers"]]
    assert [r["email"] for r in rows] == [c["email"] for c in cli_list["customers"]]
    assert list(rows[0])[:4] == ["rank", "customer_id", "name", "email"]


def test_a_row_opens_the_customer_with_risk_reasons_timeline_and_messages(visit, cli_list, company):
    from retain.services import customer_360
    from retain.services.customer_messages import customer_messages
    from retain.workspace import Workspace

    visit.sign_in(*WRITER)
    _filter(visit, min_risk=str(MIN_RISK))
    first = cli_list["customers"][0]
    visit.page.click(f'#at-risk tr[data-customer="{first["customer_id"]}"] a')
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.url.endswith(f"/dashboard/customers/{first['customer_id']}")
    risk = visit.page.locator("#risk .tile .value").all_inner_texts()
    assert risk[0] == f"{first['p_churn']:.0%}"
    assert risk[1] == f"{first['value_if_retained']:,.0f}" and risk[2] == f"{first['expected_loss']:,.0f}"
    assert first["reasons"] in visit.page.inner_text("#reasons")

    ws = Workspace.open(company.path)
    timeline = customer_360(ws, first["customer_id"]).timeline
    rows = visit.page.locator("#timeline tbody tr").all()
    assert len(rows) == min(len(timeline), 200) > 0
    newest = timeline[-1]
    assert rows[0].inner_text().split("\t")[:3] == [f"{newest['at']:%Y-%m-%d %H:%M}", newest["kind"], newest["summary"]]
    sent = customer_messages(ws, first["customer_id"])
    assert len(sent) == 2  # the playbook's task and email steps, sent or held out
    assert visit.page.locator("#messages tbody tr").count() == 2
    assert "call_at_risk" in visit.page.inner_text("#messages")
