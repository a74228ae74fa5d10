"""Domain errors reach the client once mapped: a status, a stable code and the service's own message."""

from __future__ import annotations

import sqlalchemy as sa

from retain.services import auth


def _read(ws) -> dict[str, str]:
    return {"X-API-Key": auth.create_api_key(ws, name="tv", scope="read").secret}


def test_before_any_refresh_the_views_answer_409_no_data(client, api_workspace):
    headers = _read(api_workspace)
    for url in ("/v1/metrics", "/v1/cohorts", "/v1/segments", "/v1/customers/C1"):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 409, (url, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "no_data"
        assert error["message"].startswith(f"No analytics snapshot in {api_workspace.path} yet: run `retain refresh`")
    at_risk = client.get("/v1/at-risk", headers=headers)
    assert at_risk.status_code == 409 and at_risk.json()["error"]["code"] in ("no_data", "not_fitted")


def test_an_unknown_customer_is_404_naming_the_snapshot(company, company_client, keys):
    answer = company_client.get("/v1/customers/nobody-here", headers={"X-API-Key": keys["read"]})
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"].startswith("No customer 'nobody-here' in the analytics snapshot ")
    with company.ws.connect() as connection:
        profiles = connection.execute(sa.text("SELECT count(*) FROM customer_profiles")).scalar_one()
    assert f"({profiles:,} customers as of 2025-12-31 23:15 UTC)" in error["message"]


def test_bad_filters_are_422_with_a_stable_code_and_what_is_valid(company_client, keys):
    headers = {"X-API-Key": keys["read"]}
    segment = company_client.get("/v1/at-risk", params={"segment": "nope"}, headers=headers)
    assert segment.status_code == 422
    assert segment.json()["error"]["code"] == "invalid_input"
    assert segment.json()["error"]["message"].startswith("No segment 'nope'. User segments (retain.toml): none; RFM")

    risk = company_client.get("/v1/at-risk", params={"min_risk": 1.5}, headers=headers)
    assert risk.status_code == 422
    body = risk.json()["error"]
    assert body["code"] == "invalid_request"
    assert body["details"] == [{"where": "query.min_risk", "problem": "Input should be less than or equal to 1"}]
    assert body["message"] == "query.min_risk: Input should be less than or equal to 1"

    reason = company_client.get("/v1/at-risk", params={"reason": "bored"}, headers=headers)
    assert reason.status_code == 422 and "payment_failed" in reason.json()["error"]["message"]

    freq = company_client.get("/v1/metrics", params={"freq": "week"}, headers=headers)
    assert freq.status_code == 422 and "'month', 'quarter' or 'year'" in freq.json()["error"]["message"]


def test_an_unknown_playbook_result_is_404_listing_those_with_enrolments(company_client, keys):
    answer = company_client.get("/v1/playbooks/no_such_play/results", headers={"X-API-Key": keys["read"]})
    assert answer.status_code == 404
    message = answer.json()["error"]["message"]
    assert message.startswith("Playbook 'no_such_play' has no enrolments. Playbooks with enrolments: ")


def test_filters_that_keep_nobody_give_an_empty_page(company_client, keys):
    """Found by the fuzzer: an empty list once failed merging the contacts (text ids against an empty float column)."""
    answer = company_client.get("/v1/at-risk", params={"offset": 100_000}, headers={"X-API-Key": keys["read"]})
    assert answer.status_code == 200
    assert (answer.json()["total"], answer.json()["customers"]) == (answer.json()["customers_scored"], [])
    nobody = company_client.get("/v1/at-risk", params={"min_risk": 1.0}, headers={"X-API-Key": keys["read"]})
    assert (nobody.status_code, nobody.json()["total"], nobody.json()["customers"]) == (200, 0, [])
