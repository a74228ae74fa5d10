"""Who may use retain's service: API keys, dashboard users and their signed-in sessions.

A key is ``rtk_<prefix>_<secret>``: 32 random bytes behind an 8-character prefix that names it in lists. It is
shown once, when created; the state database keeps only its SHA-256, which is enough for a value that cannot be
guessed (a password needs a slow hash: argon2id). Scopes are ordered: ``read`` < ``write`` < ``admin``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from retain.errors import InputError, NotFoundError
from retain.state import credentials
from retain.state.tables import ApiScope
from retain.workspace import Workspace

__all__ = [
    "KEY_PREFIX",
    "SESSION_COOKIE",
    "ApiKey",
    "ApiScope",
    "NewApiKey",
    "Principal",
    "WebSession",
    "authenticate_key",
    "close_session",
    "create_api_key",
    "csrf_matches",
    "list_api_keys",
    "open_session",
    "revoke_api_key",
    "session_of",
    "set_user",
    "sign_in",
]

KEY_PREFIX = "rtk_"
SESSION_COOKIE = "retain_session"
"""The cookie that carries a dashboard session's token (read by the API's ``require`` and the dashboard)."""
_SCOPE_RANK = {ApiScope.READ: 0, ApiScope.WRITE: 1, ApiScope.ADMIN: 2}
_HASHER = PasswordHasher()
_MIN_PASSWORD = 12
# Verified against when the user does not exist, so that "no such user" takes as long as "wrong password".
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they may do."""

    subject: str
    """``key:<prefix>`` for an API key, the username for a dashboard user."""
    scope: ApiScope

    def allows(self, needed: ApiScope) -> bool:
        return _SCOPE_RANK[self.scope] >= _SCOPE_RANK[needed]


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never its secret)."""

    id: str
    name: str
    prefix: str
    scope: ApiScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: sa.Row[Any]) -> ApiKey:
        return cls(row.id, row.name, row.prefix, ApiScope(row.scope), row.created_at, row.last_used_at, row.revoked_at)


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str
    """The whole key, to be shown once: it cannot be read back later."""


@dataclass(frozen=True)
class WebSession:
    token: str
    """The cookie's value (only its hash is stored)."""
    csrf_token: str
    """What every form and unsafe request of the session must carry back."""
    principal: Principal
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scope(scope: ApiScope | str) -> ApiScope:
    try:
        return ApiScope(scope)
    except ValueError:
        raise InputError(f"Unknown scope {scope!r}; expected one of {', '.join(s.value for s in ApiScope)}.") from None


def create_api_key(ws: Workspace, *, name: str, scope: ApiScope | str) -> NewApiKey:
    """A new key of ``scope``, named ``name`` (what it is for: "crm sync", "dashboard tv")."""
    name = name.strip()
    if not name or len(name) > 255:
        raise InputError("A key needs a name of 1 to 255 characters saying what it is for, e.g. --name 'crm sync'.")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = ws.clock.now()
    with ws.transaction() as connection:
        credentials.insert_api_key(
            connection,
            id=str(uuid.uuid4()),
            name=name,
            prefix=prefix,
            key_hash=_digest(secret),
            scope=_scope(scope),
            at=now,
        )
        row = credentials.find_api_key_by_hash(connection, _digest(secret))
    return NewApiKey(ApiKey.of(row), secret)


def list_api_keys(ws: Workspace) -> list[ApiKey]:
    with ws.connect() as connection:
        return [ApiKey.of(row) for row in credentials.list_api_key_rows(connection)]


def revoke_api_key(ws: Workspace, ident: str) -> list[ApiKey]:
    """Revoke the key(s) whose id, prefix or name is ``ident``; revoking twice is harmless.

    Raises
    ------
    NotFoundError
        No key has that id, prefix or name.
    """
    with ws.transaction() as connection:
        rows = credentials.revoke_api_key_row(connection, ident.strip(), ws.clock.now())
    if not rows:
        raise NotFoundError(f"No API key has the id, prefix or name {ident!r}; `retain apikey list` shows them.")
    return [ApiKey.of(row) for row in rows]


def authenticate_key(ws: Workspace, secret: str) -> Principal | None:
    """The principal of a valid, unrevoked key; ``None`` for anything else."""
    if not secret.startswith(KEY_PREFIX):
        return None
    with ws.transaction() as connection:
        row = credentials.find_api_key_by_hash(connection, _digest(secret))
        if row is None or row.revoked_at is not None:
            return None
        now = ws.clock.now()
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):  # not a write per request
            credentials.touch_api_key(connection, row.id, now)
    return Principal(f"key:{row.prefix}", ApiScope(row.scope))


def set_user(ws: Workspace, username: str, password: str, *, scope: ApiScope | str = ApiScope.READ) -> bool:
    """Create a dashboard user, or change their password and scope; True when the user is new."""
    username = username.strip()
    if not username or len(username) > 255 or username.startswith("key:"):
        raise InputError("A username is 1 to 255 characters and does not start with 'key:'.")
    if len(password) < _MIN_PASSWORD:
        raise InputError(f"The password is too short: use at least {_MIN_PASSWORD} characters.")
    with ws.transaction() as connection:
        return credentials.upsert_user(
            connection,
            username=username,
            password_hash=_HASHER.hash(password),
            scope=_scope(scope),
            at=ws.clock.now(),
        )


def sign_in(ws: Workspace, username: str, password: str) -> Principal | None:
    """The principal of an enabled user whose password matches; ``None`` otherwise (in constant-ish time)."""
    with ws.connect() as connection:
        row = credentials.find_user(connection, username.strip())
    stored = row.password_hash if row is not None and row.disabled_at is None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is _DUMMY_HASH:
        return None
    return Principal(row.username, ApiScope(row.scope))


def open_session(ws: Workspace, principal: Principal) -> WebSession:
    """A signed-in browser session for ``principal``, lasting ``[service] session_hours``."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = ws.clock.now()
    expires = now + timedelta(hours=ws.settings.service.session_hours)
    with ws.transaction() as connection:
        credentials.purge_sessions(connection, now)
        credentials.insert_session(
            connection,
            token_hash=_digest(token),
            subject=principal.subject,
            scope=principal.scope,
            csrf_token=csrf,
            at=now,
            expires_at=expires,
        )
    return WebSession(token, csrf, principal, expires)


def session_of(ws: Workspace, token: str) -> WebSession | None:
    """The live session a cookie names; ``None`` when unknown or expired."""
    with ws.connect() as connection:
        row = credentials.find_session(connection, _digest(token), ws.clock.now())
    if row is None:
        return None
    return WebSession(token, row.csrf_token, Principal(row.subject, ApiScope(row.scope)), row.expires_at)


def csrf_matches(session: WebSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf_token, presented)


def close_session(ws: Workspace, token: str) -> None:
    with ws.transaction() as connection:
        credentials.delete_session(connection, _digest(token))
