"""One state database per workspace (a second workspace is refused), and one clear line for every way the state
database cannot be opened — never a traceback, never a password."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from retain.errors import ConfigError, StateDatabaseError, WorkspaceError
from retain.services import refresh, table_summaries
from retain.state.db import normalize_url
from retain.state.profiles import count_profiles
from retain.workspace import Workspace

ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2"],
        "customer_id": ["c1", "c2"],
        "ordered_at": ["2025-01-05T00:00:00Z", "2025-02-05T00:00:00Z"],
        "amount": [10.0, 20.0],
        "status": ["completed", "completed"],
    }
)


@pytest.fixture
def empty_postgres(postgres_url: str) -> str:
    engine = sa.create_engine(normalize_url(postgres_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url


@pytest.mark.postgres
def test_a_second_workspace_on_the_same_postgres_database_is_refused(tmp_path, empty_postgres):
    first = Workspace.init(tmp_path / "shop-a", database_url=empty_postgres)
    first.ingest("orders", ORDERS)
    refresh(first)
    with pytest.raises(WorkspaceError) as refused:
        Workspace.init(tmp_path / "shop-b", database_url=empty_postgres)
    shown = normalize_url(empty_postgres).render_as_string(hide_password=True)
    assert str(refused.value) == (
        f"The state database {shown} already belongs to another workspace ({(tmp_path / 'shop-a').resolve()}, id "
        f"{first.id}); two workspaces in one database would overwrite each other's runs and profiles. Give "
        f"{(tmp_path / 'shop-b').resolve()} a database of its own (e.g. RETAIN_DATABASE_URL=…/retain_shop_b), or "
        "open the workspace that owns it."
    )
    # Nothing of the first workspace was touched: its run log, profiles and snapshot are all there.
    again = Workspace.open(first.path, database_url=empty_postgres)
    assert [run.status for run in again.runs()] == ["committed"]
    with again.connect() as connection:
        assert count_profiles(connection) == 2
    assert {s.table: s.rows for s in table_summaries(again)}["orders"] == 2


def test_the_same_workspace_reopens_its_database_and_a_copy_of_it_is_refused(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    Workspace.open(ws.path, database_url=shared)
    Workspace.open(ws.path, database_url=shared)  # the owner, again: fine
    other = Workspace.init(tmp_path / "other")
    with pytest.raises(WorkspaceError, match=r"already belongs to another workspace \(.*/ws, id "):
        Workspace.open(other.path, database_url=shared)


def _status(workspace, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retain", "status", "-w", str(workspace)],
        capture_output=True,
        text=True,
        env={"RETAIN_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        timeout=120,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> str:
    return str(Workspace.init(tmp_path_factory.mktemp("db-errors") / "ws").path)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql://postgres@127.0.0.1:5999/postgres",
            "error: Cannot reach the state database at 127.0.0.1:5999 (connection refused): is PostgreSQL running "
            "there and accepting connections? Start it, or point RETAIN_DATABASE_URL at a running server "
            "(postgresql://postgres@127.0.0.1:5999/postgres).",
        ),
        (
            "postgresql://nobody_retain_test:pw-s3cret@127.0.0.1:5432/postgres",
            "error: The PostgreSQL server at 127.0.0.1:5432 has no user 'nobody_retain_test'. Create it (CREATE "
            "ROLE nobody_retain_test LOGIN PASSWORD '…') or use an existing user in RETAIN_DATABASE_URL "
            "(postgresql://nobody_retain_test:***@127.0.0.1:5432/postgres).",
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/no_such_retain_db",
            "error: The PostgreSQL server at 127.0.0.1:5432 has no database 'no_such_retain_db'. Create it "
            "(`createdb no_such_retain_db` or CREATE DATABASE no_such_retain_db) or fix the name in "
            "RETAIN_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/no_such_retain_db).",
        ),
        (
            "postgresql://app:p@ss:w0rd-s3cret@127.0.0.1/retain",
            "error: Invalid settings:\n  environment variable RETAIN_DATABASE_URL has invalid value (hidden: it may "
            "contain a password): The state database URL postgresql://app:***@127.0.0.1/retain has a password with "
            "an unencoded '@'; percent-encode it (@ as %40, : as %3A, / as %2F, # as %23) in RETAIN_DATABASE_URL "
            "or database_url.",
        ),
        (
            "postgresql://app:s3cret-pw@no-such-host.invalid/retain",
            "error: Cannot reach the state database at no-such-host.invalid:5432 (host not found): is PostgreSQL "
            "running there and accepting connections? Start it, or point RETAIN_DATABASE_URL at a running server "
            "(postgresql://app:***@no-such-host.invalid/retain).",
        ),
    ],
    ids=["unreachable", "unknown-role", "unknown-database", "unencoded-at", "unknown-host"],
)
def test_postgres_that_cannot_be_opened_gets_one_line(workspace, url, message):
    done = _status(workspace, url)
    assert done.returncode == 1
    assert done.stdout == ""
    assert " ".join(done.stderr.split()) == " ".join(message.split())  # the terminal width may wrap it
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr and "w0rd" not in done.stderr


def test_an_unwritable_sqlite_path_gets_one_line(workspace, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    done = _status(workspace, f"sqlite:///{blocker}/state.db")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert " ".join(done.stderr.split()) == (
        f"error: Cannot open the SQLite state database {blocker}/state.db: its folder {blocker} does not exist or "
        "is not writable. Fix the folder's permissions, or set RETAIN_DATABASE_URL to a writable place."
    )


def test_a_missing_postgres_driver_says_what_to_install(workspace):
    # A real failed import: the interpreter is told psycopg cannot be imported (sys.modules entry None).
    script = (
        "import sys; sys.modules['psycopg'] = None; sys.argv = ['retain', 'status', '-w', sys.argv[1]]\n"
        "from retain.cli.main import app; app()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, workspace],
        capture_output=True,
        text=True,
        env={"RETAIN_DATABASE_URL": "postgresql://app:s3cret@127.0.0.1/retain", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr and "s3cret" not in done.stderr
    assert " ".join(done.stderr.split()) == (
        "error: The state database postgresql://app:***@127.0.0.1/retain is PostgreSQL, but its driver (psycopg) "
        "is not installed: run `pip install 'retain[postgres]'`."
    )


def test_errors_are_typed_for_the_api(tmp_path):
    """The same failures raise the domain errors the API maps to status codes (no CLI involved)."""
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(StateDatabaseError, match="Cannot open the SQLite state database"):
        Workspace.open(ws.path, database_url=f"sqlite:///{tmp_path / 'ws' / 'retain.toml'}/x.db")
    with pytest.raises(ConfigError, match="unencoded '@'"):
        Workspace.open(ws.path, database_url="postgresql://a:b@c@h/db")
