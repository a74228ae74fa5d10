"""Rules of the dashboard's session that need no browser: where a sign-in may send the browser back to, and the
Secure flag behind TLS (the app called in-process)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from retain.api import create_app
from retain.services.auth import set_user
from retain.web._session import local_target
from retain.workspace import Workspace


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dashboard/tasks?status=closed", "/dashboard/tasks?status=closed"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
        ("/dashboard/\r\nSet-Cookie: x=1", "/dashboard/"),
        ("dashboard", "/dashboard/"),
        (None, "/dashboard/"),
    ],
)
def test_sign_in_goes_back_only_to_a_page_of_this_server(target, expected):
    assert local_target(target, "/dashboard/") == expected


def test_behind_tls_the_session_cookie_is_secure(tmp_path):
    ws = Workspace.init(tmp_path / "shop")
    toml = ws.path / "retain.toml"
    toml.write_text(toml.read_text().replace("secure_cookies = false", "secure_cookies = true"))
    ws = Workspace.open(ws.path)
    set_user(ws, "alice", "alice-password-123", scope="read")
    with TestClient(create_app(ws.settings)) as client:
        form = client.get("/dashboard/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        client.cookies.set("retain_sign_in", token)  # a Secure cookie is not sent back over plain http: set it
        signed = client.post(
            "/dashboard/sign-in",
            data={"csrf_token": token, "username": "alice", "password": "alice-password-123"},
            follow_redirects=False,
        )
    assert signed.status_code == 303
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("retain_session="))
    assert {"HttpOnly", "Secure", "Path=/", "SameSite=strict"} <= {part.strip() for part in cookie.split(";")}
