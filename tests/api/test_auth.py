"""API keys, dashboard users and sessions: stored hashed, scoped, revocable, expiring; enforced on the routes."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from retain.cli.main import app as cli
from retain.errors import InputError, NotFoundError
from retain.services import auth
from retain.state.tables import ApiScope, api_keys, dashboard_users, web_sessions


def _dump(ws, table) -> str:
    with ws.connect() as connection:
        return repr([tuple(row) for row in connection.execute(sa.select(table))])


def test_a_key_authenticates_with_its_scope_until_revoked(api_workspace):
    made = auth.create_api_key(api_workspace, name="crm sync", scope="write")
    assert made.secret.startswith(f"rtk_{made.key.prefix}_") and len(made.secret) == 4 + 8 + 1 + 43
    assert made.secret not in _dump(api_workspace, api_keys)  # only the hash is kept

    principal = auth.authenticate_key(api_workspace, made.secret)
    assert principal == auth.Principal(f"key:{made.key.prefix}", ApiScope.WRITE)
    assert (principal.allows(ApiScope.READ), principal.allows(ApiScope.WRITE), principal.allows(ApiScope.ADMIN)) == (
        True,
        True,
        False,
    )
    assert auth.authenticate_key(api_workspace, made.secret[:-1] + "x") is None
    assert auth.authenticate_key(api_workspace, "not a key") is None

    [revoked] = auth.revoke_api_key(api_workspace, made.key.prefix)
    assert revoked.revoked_at == api_workspace.clock.now()
    assert auth.authenticate_key(api_workspace, made.secret) is None
    assert auth.revoke_api_key(api_workspace, "crm sync")[0].revoked_at == revoked.revoked_at  # twice: harmless
    try:
        auth.revoke_api_key(api_workspace, "no-such-key")
    except NotFoundError as error:
        assert "retain apikey list" in str(error)
    else:
        raise AssertionError("revoking an unknown key must fail")


def test_last_used_is_written_at_most_once_a_minute(api_workspace, clock):
    made = auth.create_api_key(api_workspace, name="tv", scope="read")
    auth.authenticate_key(api_workspace, made.secret)
    first = clock.now()
    clock.advance(seconds=30)
    auth.authenticate_key(api_workspace, made.secret)
    assert auth.list_api_keys(api_workspace)[0].last_used_at == first
    clock.advance(seconds=31)
    auth.authenticate_key(api_workspace, made.secret)
    assert auth.list_api_keys(api_workspace)[0].last_used_at == clock.now()


def test_users_sign_in_with_an_argon2_password(api_workspace):
    assert auth.set_user(api_workspace, "alice", "correct horse battery", scope="write") is True
    assert "correct horse" not in _dump(api_workspace, dashboard_users)
    assert "$argon2id$" in _dump(api_workspace, dashboard_users)
    assert auth.sign_in(api_workspace, "alice", "correct horse battery") == auth.Principal("alice", ApiScope.WRITE)
    assert auth.sign_in(api_workspace, "alice", "wrong password!!") is None
    assert auth.sign_in(api_workspace, "bob", "correct horse battery") is None
    assert auth.set_user(api_workspace, "alice", "a new long password", scope="read") is False
    assert auth.sign_in(api_workspace, "alice", "correct horse battery") is None
    assert auth.sign_in(api_workspace, "alice", "a new long password").scope is ApiScope.READ
    for bad in (("alice", "short"), ("", "long enough password"), ("key:abc", "long enough password")):
        try:
            auth.set_user(api_workspace, *bad)
        except InputError:
            continue
        raise AssertionError(f"{bad} must be refused")


def test_sessions_expire_and_close(api_workspace, clock):
    session = auth.open_session(api_workspace, auth.Principal("alice", ApiScope.READ))
    assert session.token not in _dump(api_workspace, web_sessions)
    assert auth.session_of(api_workspace, session.token).principal == session.principal
    clock.advance(hours=11, minutes=59)
    assert auth.session_of(api_workspace, session.token) is not None
    clock.advance(minutes=1)  # [service] session_hours = 12
    assert auth.session_of(api_workspace, session.token) is None

    second = auth.open_session(api_workspace, auth.Principal("alice", ApiScope.READ))
    with api_workspace.connect() as connection:  # opening a session purged the expired one
        assert connection.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar_one() == 1
    auth.close_session(api_workspace, second.token)
    assert auth.session_of(api_workspace, second.token) is None


def test_routes_need_credentials_except_health(client, api_workspace):
    health = client.get("/health")
    assert (health.status_code, health.json()["status"]) == (200, "ok")

    refused = client.get("/v1/whoami")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["error"]["code"] == "unauthorized"

    made = auth.create_api_key(api_workspace, name="tv", scope="read")
    by_bearer = client.get("/v1/whoami", headers={"Authorization": f"Bearer {made.secret}"})
    by_header = client.get("/v1/whoami", headers={"X-API-Key": made.secret})
    assert by_bearer.json() == by_header.json() == {"subject": f"key:{made.key.prefix}", "scope": "read"}

    auth.revoke_api_key(api_workspace, made.key.id)
    assert client.get("/v1/whoami", headers={"X-API-Key": made.secret}).status_code == 401

    session = auth.open_session(api_workspace, auth.Principal("alice", ApiScope.ADMIN))
    client.cookies.set("retain_session", session.token)
    assert client.get("/v1/whoami").json() == {"subject": "alice", "scope": "admin"}
    client.cookies.set("retain_session", "forged")
    assert client.get("/v1/whoami").status_code == 401


def test_the_openapi_document_declares_the_credentials(client):
    document = client.get("/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader", "APIKeyCookie"} <= set(schemes)
    assert "security" not in document["paths"]["/health"]["get"]
    assert len(document["paths"]["/v1/whoami"]["get"]["security"]) == 3


def test_apikey_commands_create_list_and_revoke(api_workspace):
    runner = CliRunner(env={"RETAIN_DATABASE_URL": api_workspace.settings.resolved_database_url})
    where = ["-w", str(api_workspace.path)]
    created = runner.invoke(cli, ["apikey", "create", "--name", "crm sync", "--scope", "write", *where])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    principal = auth.authenticate_key(api_workspace, secret)
    assert principal.scope is ApiScope.WRITE
    prefix = principal.subject.removeprefix("key:")
    listed = runner.invoke(cli, ["apikey", "list", *where])
    assert prefix in listed.stdout and "crm sync" in listed.stdout and secret not in listed.stdout
    assert runner.invoke(cli, ["apikey", "revoke", prefix, *where]).exit_code == 0
    assert auth.authenticate_key(api_workspace, secret) is None
    unknown = runner.invoke(cli, ["apikey", "revoke", "nope", *where])
    assert unknown.exit_code == 2 and "No API key" in unknown.output
