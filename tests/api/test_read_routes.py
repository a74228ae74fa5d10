"""The read routes on a real synthetic company answer what the CLI's ``--format json`` answers, number for number."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from retain.cli.main import app as cli
from retain.state.tables import playbook_enrolments, playbook_steps


def _instants(value):
    """Instants as datetimes, wherever they are: the CLI prints str(datetime), the API ISO 8601."""
    if isinstance(value, dict):
        return {k: _instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _cli_json(company, *args: str):
    result = CliRunner().invoke(cli, [*args, "-w", str(company.ws.path), "--format", "json"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return _instants(json.loads(result.stdout))


def _same_customers(api: list[dict], cli_rows: list[dict]) -> bool:
    """The API's rows are the CLI's; the API also keeps the declared columns the CLI drops when empty (null)."""
    return len(api) == len(cli_rows) and all(
        {k: a[k] for k in c} == c and all(a[k] is None for k in a.keys() - c.keys())
        for a, c in zip(api, cli_rows, strict=True)
    )


def _get(client, keys, url: str, **params):
    answer = client.get(url, params=params, headers={"Authorization": f"Bearer {keys['read']}"})
    assert answer.status_code == 200, answer.text
    return _instants(answer.json())


@pytest.mark.parametrize(("freq", "last"), [("month", 12), ("quarter", 3), ("year", None)])
def test_metrics_are_the_cli_metrics(company, company_client, keys, freq, last):
    params = {"freq": freq} | ({"last": last} if last else {"last": 10_000})
    api = _get(company_client, keys, "/v1/metrics", **params)
    assert api == _cli_json(company, "metrics", "--freq", freq, "--last", str(params["last"]))
    assert len(api["periods"]) == (last or len(api["periods"])) and api["periods"][-1]["retention"]["end_customers"] > 0


@pytest.mark.parametrize(("measure", "shares"), [("logo", False), ("revenue", True)])
def test_cohorts_are_the_cli_cohorts(company, company_client, keys, measure, shares):
    api = _get(company_client, keys, "/v1/cohorts", measure=measure, shares=str(shares).lower())
    args = ["cohorts", "--measure", measure, *(["--shares"] if shares else [])]
    assert api == _cli_json(company, *args)
    first = api["cohorts"][0]
    assert first["values"][0] == (1.0 if shares else first["cohort_size"])  # age 0: the whole cohort


def test_segments_are_the_cli_segments(company, company_client, keys):
    api = _get(company_client, keys, "/v1/segments")
    assert api == _cli_json(company, "segments")
    assert (
        sum(row["customers"] for row in api["lifecycle"])
        == company.ws.state.connect()
        .execute(sa.text("SELECT count(*) FROM customer_profiles WHERE lifecycle_state IS NOT NULL"))
        .scalar_one()
    )


def test_the_360_is_the_cli_360_with_the_messages_retain_sent(company, company_client, keys):
    with company.ws.connect() as connection:
        steps = connection.execute(sa.select(playbook_steps.c.enrolment_id)).all()
        enrolled = dict(
            connection.execute(sa.select(playbook_enrolments.c.id, playbook_enrolments.c.customer_id)).all()
        )
    per_customer = Counter(enrolled[enrolment] for (enrolment,) in steps)
    customer_id, decided = per_customer.most_common(1)[0]
    api = _get(company_client, keys, f"/v1/customers/{customer_id}")
    cli_view = _cli_json(company, "customer", customer_id)
    assert api["profile"] == cli_view["profile"]
    assert (api["segments"], api["snapshot"]) == (cli_view["segments"], cli_view["snapshot"])
    assert api["timeline"] == cli_view["timeline"] and api["timeline"]
    assert len(api["messages"]) == decided > 0
    assert api["profile"]["p_churn"] is not None and api["profile"]["health"] is not None


def test_the_at_risk_list_pages_through_the_cli_list(company, company_client, keys):
    everyone = _cli_json(company, "at-risk", "--top", "12")
    first = _get(company_client, keys, "/v1/at-risk", limit=5)
    second = _get(company_client, keys, "/v1/at-risk", limit=7, offset=5)
    assert first["total"] == second["total"] == everyone["customers_matching"] == everyone["customers_scored"]
    assert _same_customers(first["customers"] + second["customers"], everyone["customers"])
    assert [c["rank"] for c in second["customers"]] == list(range(6, 13))

    risky = _cli_json(company, "at-risk", "--all", "--min-risk", "0.2")
    api = _get(company_client, keys, "/v1/at-risk", min_risk=0.2, limit=1000)
    assert api["total"] == risky["customers_matching"] == len(api["customers"]) > 0
    assert _same_customers(api["customers"], risky["customers"]) and api["filters"] == {"min_risk": "20%"}


def test_playbooks_list_their_enrolments_and_results(company, company_client, keys):
    with company.ws.connect() as connection:
        counted = Counter(connection.execute(sa.select(playbook_enrolments.c.playbook, playbook_enrolments.c.arm)))
    listed = _get(company_client, keys, "/v1/playbooks")
    assert listed["problems"] == [] and len(listed["playbooks"]) == 13
    assert [p["priority"] for p in listed["playbooks"]] == sorted(
        (p["priority"] for p in listed["playbooks"]), reverse=True
    )
    for playbook in listed["playbooks"]:
        name = playbook["name"]
        assert (playbook["treated"], playbook["held_out"]) == (counted[name, "treatment"], counted[name, "holdout"])
        assert playbook["enrolled"] == playbook["treated"] + playbook["held_out"] and playbook["enabled"] is True

    busiest = max(listed["playbooks"], key=lambda p: p["enrolled"])
    assert busiest["enrolled"] > 0
    api = _get(company_client, keys, f"/v1/playbooks/{busiest['name']}/results")
    assert [api] == _cli_json(company, "playbook", "results", busiest["name"])
    assert api["enrolled"] == busiest["enrolled"]
