"""Facts posted to the API and platform webhooks: validated per fact, idempotent, flushed by the server itself."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from stripe_payloads import body, customer, event

from retain.api import create_app
from retain.ingest.platforms import sign_stripe
from retain.services import auth
from retain.services.live_facts import flush_inbox
from retain.workspace import Workspace

STRIPE_SECRET = "whsec_0123456789abcdefghijklmnop"
ORDER = {
    "order_id": "o1",
    "customer_id": "c1",
    "ordered_at": "2026-12-01T10:00:00Z",
    "amount": 25.5,
    "status": "completed",
}


def _keys(ws: Workspace) -> dict[str, dict[str, str]]:
    return {
        scope: {"X-API-Key": auth.create_api_key(ws, name=scope, scope=scope).secret} for scope in ("read", "write")
    }


def _lake(ws: Workspace, table: str) -> list[dict]:
    if not ws.lake.batch_files(table):
        return []
    return ws.backend.to_pyarrow(ws.table(table)).to_pylist()


def test_posted_facts_are_checked_per_fact_and_a_repost_changes_nothing(api_workspace, clock):
    keys = _keys(api_workspace)
    with TestClient(create_app(api_workspace.settings, clock=clock, flush=False)) as client:
        assert client.post("/v1/orders", json=ORDER, headers=keys["read"]).status_code == 403
        assert client.post("/v1/orders", json=ORDER).status_code == 401

        bad = {**ORDER, "order_id": "o2", "amount": -3, "status": "lost"}
        answer = client.post("/v1/orders", json=[ORDER, bad], headers=keys["write"])
        assert answer.status_code == 200
        got = answer.json()
        assert (got["accepted"], got["duplicates"], got["rejected"]) == (1, 0, 1)
        assert got["facts"][0] == {"index": 0, "status": "accepted", "key": {"order_id": "o1"}, "problems": []}
        assert got["facts"][1]["status"] == "rejected"
        assert {p["column"] for p in got["facts"][1]["problems"]} == {"status", "amount"}

        again = client.post("/v1/orders", json=ORDER, headers=keys["write"]).json()
        assert (again["accepted"], again["duplicates"]) == (0, 1)
        refunded = client.post("/v1/orders", json={**ORDER, "status": "refunded"}, headers=keys["write"]).json()
        assert refunded["accepted"] == 1  # a new version of o1: the later one wins in the lake

        not_json = client.post(
            "/v1/orders", content=b"{nope", headers={**keys["write"], "content-type": "application/json"}
        )
        assert (not_json.status_code, not_json.json()["error"]["code"]) == (422, "invalid_request")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_server_flushes_the_inbox_into_the_lake_on_its_own(database_url, tmp_path, clock):
    ws = Workspace.init(tmp_path / "shop", clock=clock, database_url=database_url, inbox={"flush_seconds": 0.2})
    keys = _keys(ws)
    events = [
        {"event_id": f"e{i}", "customer_id": "c1", "event_type": "login", "occurred_at": f"2026-12-0{i}T08:00:00Z"}
        for i in range(1, 4)
    ]
    with TestClient(create_app(ws.settings, clock=clock)) as client:
        assert client.post("/v1/events", json=events, headers=keys["write"]).json()["accepted"] == 3
        deadline = time.monotonic() + 20
        while not _lake(ws, "events") and time.monotonic() < deadline:
            time.sleep(0.1)
        flusher = client.app.state.flusher
    assert sorted(row["event_id"] for row in _lake(ws, "events")) == ["e1", "e2", "e3"]
    assert flusher.rounds == 1


def test_a_stripe_webhook_is_refused_unsigned_applied_once_and_reaches_the_lake(database_url, tmp_path, clock):
    ws = Workspace.init(
        tmp_path / "shop",
        clock=clock,
        database_url=database_url,
        platforms={"stripe": {"endpoint_secret": STRIPE_SECRET}},
    )
    created = event(
        "evt_1",
        "customer.created",
        "2026-12-03T08:59:58Z",
        customer("cus_A", "2026-12-03T08:59:58Z", "a@example.com", "Ada", "DE"),
    )
    raw = body(created)
    signed = {
        "Stripe-Signature": sign_stripe(raw, STRIPE_SECRET, created["created"]),
        "content-type": "application/json",
    }
    with TestClient(create_app(ws.settings, clock=clock, flush=False)) as client:
        forged = client.post(
            "/v1/webhooks/stripe",
            content=raw,
            headers={**signed, "Stripe-Signature": sign_stripe(raw, "whsec_wrong", created["created"])},
        )
        assert (forged.status_code, forged.json()["error"]["code"]) == (400, "bad_signature")
        stale = client.post(
            "/v1/webhooks/stripe",
            content=raw,
            headers={**signed, "Stripe-Signature": sign_stripe(raw, STRIPE_SECRET, created["created"] - 3600)},
        )
        assert (stale.status_code, stale.json()["error"]["code"]) == (400, "stale_timestamp")

        first = client.post("/v1/webhooks/stripe", content=raw, headers=signed)
        assert (first.status_code, first.json()["status"], first.json()["rows"]) == (200, "applied", {"customers": 1})
        second = client.post("/v1/webhooks/stripe", content=raw, headers=signed)
        assert (second.status_code, second.json()["status"]) == (200, "duplicate")
    flush_inbox(ws)
    [row] = _lake(ws, "customers")
    assert (row["customer_id"], row["email"], row["country"]) == ("cus_A", "a@example.com", "DE")
