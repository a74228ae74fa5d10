"""Rows of API keys, dashboard users and signed-in sessions (repository functions on a Connection).

Only hashes are stored: the caller hashes a secret before it comes here, so nothing in this module (or in the
state database) can give a key, a password or a session cookie back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from retain.state.tables import ApiScope, api_keys, dashboard_users, web_sessions

__all__ = [
    "delete_session",
    "find_api_key_by_hash",
    "find_session",
    "find_user",
    "insert_api_key",
    "insert_session",
    "list_api_key_rows",
    "purge_sessions",
    "revoke_api_key_row",
    "touch_api_key",
    "upsert_user",
]


def insert_api_key(
    connection: sa.Connection, *, id: str, name: str, prefix: str, key_hash: str, scope: ApiScope, at: datetime
) -> None:
    connection.execute(
        api_keys.insert().values(
            id=id, name=name, prefix=prefix, key_hash=key_hash, scope=str(scope), created_at=at, last_used_at=None
        )
    )


def find_api_key_by_hash(connection: sa.Connection, key_hash: str) -> sa.Row[Any] | None:
    return connection.execute(sa.select(api_keys).where(api_keys.c.key_hash == key_hash)).first()


def list_api_key_rows(connection: sa.Connection) -> list[sa.Row[Any]]:
    return list(connection.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)))


def revoke_api_key_row(connection: sa.Connection, ident: str, at: datetime) -> list[sa.Row[Any]]:
    """Revoke the keys whose id, prefix or name is ``ident``; the matching rows as they are now."""
    matches = (api_keys.c.id == ident) | (api_keys.c.prefix == ident) | (api_keys.c.name == ident)
    connection.execute(api_keys.update().where(matches, api_keys.c.revoked_at.is_(None)).values(revoked_at=at))
    return list(connection.execute(sa.select(api_keys).where(matches)))


def touch_api_key(connection: sa.Connection, id: str, at: datetime) -> None:
    connection.execute(api_keys.update().where(api_keys.c.id == id).values(last_used_at=at))


def upsert_user(connection: sa.Connection, *, username: str, password_hash: str, scope: ApiScope, at: datetime) -> bool:
    """Create the user or set their password and scope (and enable them); True when the user is new."""
    exists = find_user(connection, username) is not None
    values = {"password_hash": password_hash, "scope": str(scope), "disabled_at": None}
    if exists:
        connection.execute(dashboard_users.update().where(dashboard_users.c.username == username).values(**values))
    else:
        connection.execute(dashboard_users.insert().values(username=username, created_at=at, **values))
    return not exists


def find_user(connection: sa.Connection, username: str) -> sa.Row[Any] | None:
    return connection.execute(sa.select(dashboard_users).where(dashboard_users.c.username == username)).first()


def insert_session(
    connection: sa.Connection,
    *,
    token_hash: str,
    subject: str,
    scope: ApiScope,
    csrf_token: str,
    at: datetime,
    expires_at: datetime,
) -> None:
    connection.execute(
        web_sessions.insert().values(
            token_hash=token_hash,
            subject=subject,
            scope=str(scope),
            csrf_token=csrf_token,
            created_at=at,
            expires_at=expires_at,
        )
    )


def find_session(connection: sa.Connection, token_hash: str, now: datetime) -> sa.Row[Any] | None:
    """The session unless it expired."""
    query = sa.select(web_sessions).where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > now)
    return connection.execute(query).first()


def delete_session(connection: sa.Connection, token_hash: str) -> None:
    connection.execute(web_sessions.delete().where(web_sessions.c.token_hash == token_hash))


def purge_sessions(connection: sa.Connection, now: datetime) -> int:
    """Delete expired sessions; how many."""
    return connection.execute(web_sessions.delete().where(web_sessions.c.expires_at <= now)).rowcount
