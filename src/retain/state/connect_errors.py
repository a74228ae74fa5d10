"""Why the state database cannot be opened, in one line with the fix, and never with a password in it.

Opening a workspace connects to its state database; what goes wrong there is almost always the environment —
no server, a wrong user or database name, a missing driver, a SQLite path that cannot be written, a password
with an unencoded ``@`` — and deserves a sentence naming the cause and what to change, not a driver traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url

from retain.errors import ConfigError, StateDatabaseError
from retain.state.db import describe_database_error, shown_url

__all__ = ["check_credentials", "is_connection_failure", "unavailable"]

_ENCODING_HINT = "percent-encode it (@ as %40, : as %3A, / as %2F, # as %23)"


def check_credentials(url: str) -> None:
    """Refuse a URL whose password holds an unencoded ``@`` (it would be split at the wrong place and part of the
    password sent as the host name — and printed in the driver's error).

    Raises
    ------
    ConfigError
        Naming the problem and the fix, with the password hidden.
    """
    _, sep, rest = url.partition("://")
    if sep and rest.split("?", 1)[0].split("/", 1)[0].count("@") > 1:
        raise ConfigError(
            f"The state database URL {shown_url(url)} has a password with an unencoded '@'; {_ENCODING_HINT} "
            "in RETAIN_DATABASE_URL or database_url."
        )


def is_connection_failure(error: BaseException) -> bool:
    """Whether ``error`` is the database (or its missing driver) failing, rather than a bug of ours."""
    if isinstance(error, ImportError):
        return "psycopg" in str(error)
    module = type(error).__module__ or ""
    return module.startswith(("sqlalchemy", "psycopg", "sqlite3"))


def _host(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def unavailable(url: str, error: BaseException) -> StateDatabaseError | ConfigError:
    """The one-line error for a state database that cannot be opened at ``url`` because of ``error``."""
    shown = shown_url(url)
    if isinstance(error, ModuleNotFoundError | ImportError) and "psycopg" in str(error):
        return ConfigError(
            f"The state database {shown} is PostgreSQL, but its driver (psycopg) is not installed: "
            "run `pip install 'retain[postgres]'`."
        )
    cause = describe_database_error(error)
    text = str(getattr(error, "orig", None) or error)
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        if "unable to open database file" in text:
            return StateDatabaseError(
                f"Cannot open the SQLite state database {path}: its folder {path.parent} does not exist or is not "
                "writable. Fix the folder's permissions, or set RETAIN_DATABASE_URL to a writable place."
            )
        if "readonly database" in text:
            return StateDatabaseError(
                f"Cannot write the SQLite state database {path}: the file is read-only. Fix its permissions "
                "(e.g. `chmod u+w state.db`)."
            )
        return StateDatabaseError(f"Cannot open the SQLite state database {path}: {cause}.")
    host = _host(url)
    if match := re.search(r'role "([^"]*)" does not exist', text):
        return StateDatabaseError(
            f"The PostgreSQL server at {host} has no user {match.group(1)!r}. Create it (CREATE ROLE "
            f"{match.group(1)} LOGIN PASSWORD '…') or use an existing user in RETAIN_DATABASE_URL ({shown})."
        )
    if match := re.search(r'database "([^"]*)" does not exist', text):
        return StateDatabaseError(
            f"The PostgreSQL server at {host} has no database {match.group(1)!r}. Create it (`createdb "
            f"{match.group(1)}` or CREATE DATABASE {match.group(1)}) or fix the name in RETAIN_DATABASE_URL ({shown})."
        )
    if match := re.search(r'password authentication failed for user "([^"]*)"', text):
        return StateDatabaseError(
            f"The PostgreSQL server at {host} refused the password of user {match.group(1)!r}. Fix the password in "
            f"RETAIN_DATABASE_URL ({shown}); if it holds @ : / or #, {_ENCODING_HINT}."
        )
    if re.search(r"Connection refused|could not translate host|failed to resolve host|timeout expired|No route", text):
        reason = "connection refused" if "refused" in text else "host not found" if "host" in text[:80] else "no answer"
        return StateDatabaseError(
            f"Cannot reach the state database at {host} ({reason}): is PostgreSQL running there and accepting "
            f"connections? Start it, or point RETAIN_DATABASE_URL at a running server ({shown})."
        )
    return StateDatabaseError(f"Cannot open the state database {shown}: {_scrub(cause, url)}.")


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL's password, whole or in the pieces a wrong split may have produced."""
    credentials = url.partition("://")[2].split("?", 1)[0].rpartition("@")[0]
    password = credentials.partition(":")[2]
    for piece in {password, *re.split(r"[@:/]", password)}:
        if len(piece) >= 3:
            text = text.replace(piece, "***")
    return text
