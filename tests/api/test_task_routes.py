"""``/v1/tasks``: list with filters and pages (read), assign and close (write), on both state databases."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from retain.services import auth
from retain.state.tables import tasks


def _tasks(ws, clock) -> None:
    now = clock.now()
    rows = [
        {"customer_id": "C1", "title": "Call about the failed payment", "due_at": now + timedelta(days=2)},
        {"customer_id": "C2", "title": "Ask why they left", "due_at": now + timedelta(days=1)},
        {"customer_id": "C1", "title": "Thank for the review", "due_at": now + timedelta(days=5)},
    ]
    with ws.transaction() as connection:
        for row in rows:
            connection.execute(tasks.insert().values(**row, playbook="win_back", status="open", created_at=now))


def test_tasks_are_listed_open_first_by_due_date_assigned_and_closed(client, api_workspace, clock):
    _tasks(api_workspace, clock)
    read = {"X-API-Key": auth.create_api_key(api_workspace, name="tv", scope="read").secret}
    write = {"X-API-Key": auth.create_api_key(api_workspace, name="crm", scope="write").secret}

    page = client.get("/v1/tasks", headers=read).json()
    assert (page["total"], [t["title"] for t in page["items"]]) == (
        3,
        ["Ask why they left", "Call about the failed payment", "Thank for the review"],
    )
    second = client.get("/v1/tasks", params={"limit": 1, "offset": 1}, headers=read).json()
    assert (second["total"], [t["id"] for t in second["items"]]) == (3, [page["items"][1]["id"]])
    mine = client.get("/v1/tasks", params={"customer_id": "C1"}, headers=read).json()
    assert [t["customer_id"] for t in mine["items"]] == ["C1", "C1"] and mine["total"] == 2

    first = page["items"][0]["id"]
    refused = client.post(f"/v1/tasks/{first}/assign", json={"assignee": "ana"}, headers=read)
    assert refused.status_code == 403
    assigned = client.post(f"/v1/tasks/{first}/assign", json={"assignee": "ana@example.com"}, headers=write)
    assert assigned.status_code == 200 and assigned.json()["assignee"] == "ana@example.com"
    clock.advance(hours=2)
    closed = client.post(f"/v1/tasks/{first}/close", headers=write).json()
    assert (closed["status"], closed["closed_at"]) == ("closed", clock.now().isoformat().replace("+00:00", "Z"))

    with api_workspace.connect() as connection:
        stored = connection.execute(sa.select(tasks.c.assignee, tasks.c.status).where(tasks.c.id == first)).one()
    assert tuple(stored) == ("ana@example.com", "closed")
    listed = client.get("/v1/tasks", params={"status": "open"}, headers=read).json()
    assert listed["total"] == 2 and first not in [t["id"] for t in listed["items"]]
    by_ana = client.get("/v1/tasks", params={"assignee": "ana@example.com"}, headers=read).json()
    assert [t["id"] for t in by_ana["items"]] == [first]


def test_task_errors_name_the_problem(client, api_workspace):
    write = {"X-API-Key": auth.create_api_key(api_workspace, name="crm", scope="write").secret}
    missing = client.post("/v1/tasks/999/close", headers=write)
    assert missing.status_code == 404 and missing.json()["error"]["message"].startswith("No task 999;")
    empty = client.post("/v1/tasks/1/assign", json={"assignee": ""}, headers=write)
    assert empty.status_code == 422 and empty.json()["error"]["details"][0]["where"] == "body.assignee"
    huge = client.post(f"/v1/tasks/{2**70}/close", headers=write)
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "invalid_request"


def test_api_keys_are_created_listed_and_revoked_by_an_admin(client, api_workspace):
    admin = {"Authorization": f"Bearer {auth.create_api_key(api_workspace, name='ops', scope='admin').secret}"}
    made = client.post("/v1/apikeys", json={"name": "crm sync", "scope": "write"}, headers=admin)
    assert made.status_code == 201
    secret, prefix = made.json()["secret"], made.json()["key"]["prefix"]
    assert client.get("/v1/whoami", headers={"X-API-Key": secret}).json() == {
        "subject": f"key:{prefix}",
        "scope": "write",
    }
    listed = client.get("/v1/apikeys", headers=admin).json()
    assert listed["total"] == 2 and secret not in str(listed)
    assert sorted(k["name"] for k in listed["items"]) == ["crm sync", "ops"]
    revoked = client.delete(f"/v1/apikeys/{prefix}", headers=admin).json()
    assert [k["prefix"] for k in revoked["items"]] == [prefix] and revoked["items"][0]["revoked_at"] is not None
    assert client.get("/v1/whoami", headers={"X-API-Key": secret}).status_code == 401
    bad = client.post("/v1/apikeys", json={"name": "x", "scope": "root"}, headers=admin)
    assert bad.status_code == 422 and "'read', 'write' or 'admin'" in bad.json()["error"]["message"]
