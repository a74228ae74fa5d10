"""Every route of the OpenAPI document needs a key of its scope: without one 401, with a smaller scope 403.

The routes are read from the document itself, so a route added later is covered without touching this test. The
only routes open without a key are listed here, on purpose: the health check, the signed customer links and the
platforms' webhooks (signed by the platform).
"""

from __future__ import annotations

import re

import pytest

from retain.services import auth

OPEN_ROUTES = {
    ("get", "/health"),
    ("get", "/unsubscribe/{token}"),  # signed customer links: the token is the credential
    ("post", "/unsubscribe/{token}"),
    ("post", "/v1/webhooks/stripe"),  # platform webhooks: the platform's signature is the credential
    ("post", "/v1/webhooks/shopify"),  # (refusals of bad signatures: tests/api/test_live_routes.py)
}
PLAUSIBLE = {"customer_id": "C0000001", "name": "wake_up", "task_id": "1", "prefix": "0a1b2c3d", "token": "abc.def"}
BODY = {"assignee": "ana@example.com", "name": "crm sync", "scope": "read"}


def needed_scope(method: str, path: str) -> str:
    """The rule of the service: keys are admin's business; anything that changes something needs write."""
    if path.startswith("/v1/apikeys"):
        return "admin"
    return "read" if method == "get" else "write"


def _routes(client) -> list[tuple[str, str]]:
    document = client.get("/v1/openapi.json").json()
    return [(method, path) for path, item in document["paths"].items() for method in item]


def _call(client, method: str, path: str, headers: dict[str, str]):
    url = re.sub(r"\{(\w+)\}", lambda m: PLAUSIBLE[m.group(1)], path)
    body = BODY if method in ("post", "put", "patch") else None
    return client.request(method.upper(), url, json=body, headers=headers)


def test_the_open_routes_are_only_those_listed(client):
    routes = _routes(client)
    assert set(routes) >= OPEN_ROUTES
    opened = {route for route in routes if _call(client, *route, {}).status_code != 401}
    assert opened == OPEN_ROUTES


def test_every_route_refuses_no_key_a_wrong_key_and_a_smaller_scope(client, api_workspace):
    secrets = {s: auth.create_api_key(api_workspace, name=s, scope=s).secret for s in ("read", "write", "admin")}
    rank = ["read", "write", "admin"]
    checked = 0
    for method, path in _routes(client):
        if (method, path) in OPEN_ROUTES:
            continue
        for headers in ({}, {"Authorization": "Bearer rtk_00000000_forged"}, {"X-API-Key": "nonsense"}):
            answer = _call(client, method, path, headers)
            assert answer.status_code == 401, (method, path, headers, answer.text)
            assert answer.json()["error"]["code"] == "unauthorized"
        needed = needed_scope(method, path)
        for scope in rank:
            answer = _call(client, method, path, {"Authorization": f"Bearer {secrets[scope]}"})
            if rank.index(scope) < rank.index(needed):
                assert answer.status_code == 403, (method, path, scope, answer.text)
                assert answer.json()["error"] == {
                    "code": "forbidden_scope",
                    "message": f"This route needs the {needed} scope; the credentials have {scope}.",
                }
            else:
                assert answer.status_code not in (401, 403), (method, path, scope, answer.text)
        checked += 1
    assert checked >= 12  # the routes of this branch; more join as they are written


@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_dashboard_session_needs_its_csrf_token_to_change_anything(client, api_workspace, method):
    session = auth.open_session(api_workspace, auth.Principal("alice", auth.ApiScope.ADMIN))
    client.cookies.set("retain_session", session.token)
    path = "/v1/apikeys" if method == "post" else "/v1/apikeys/nope"
    refused = client.request(method.upper(), path, json=BODY)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_failed")
    allowed = client.request(method.upper(), path, json=BODY, headers={"X-CSRF-Token": session.csrf_token})
    assert allowed.status_code == (201 if method == "post" else 404)
