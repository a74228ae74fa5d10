"""Migrations: upgrade to head on SQLite and PostgreSQL, idempotently, and agree with ``tables.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from retain.errors import ConfigError
from retain.state import current_revision, head_revision, ingest_runs, make_engine, metadata, upgrade

EXPECTED_COLUMNS = {
    # name: (nullable, python type)
    "id": (False, str),
    "table_name": (False, str),
    "source": (False, str),
    "fingerprint": (False, str),
    "status": (False, str),
    "rows_read": (False, int),
    "rows_accepted": (False, int),
    "rows_rejected": (False, int),
    "batch_path": (True, str),
    "rejects_path": (True, str),
    "error": (True, str),
    "started_at": (False, datetime),
    "finished_at": (True, datetime),
}


def test_head_is_the_latest_revision():
    assert head_revision() == "0008"


def test_upgrade_to_head_creates_ingest_runs(database_url):
    assert current_revision(database_url) is None
    assert upgrade(database_url) == "0008"
    assert current_revision(database_url) == "0008"

    engine = make_engine(database_url)
    try:
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names()) == {
            "alembic_version",
            "ingest_runs",
            "customer_profiles",
            "workspace",
            "outbox",
            "playbook_enrolments",
            "playbook_steps",
            "suppression_list",
            "tasks",
            "customer_tags",
            "coupons",
            "api_keys",
            "dashboard_users",
            "web_sessions",
            "fact_inbox",
            "webhook_events",
        }
        columns = {c["name"]: c for c in inspector.get_columns("ingest_runs")}
        assert set(columns) == set(EXPECTED_COLUMNS)
        for name, (nullable, python_type) in EXPECTED_COLUMNS.items():
            assert columns[name]["nullable"] is nullable, name
            assert columns[name]["type"].python_type is python_type, name
        assert inspector.get_pk_constraint("ingest_runs")["constrained_columns"] == ["id"]
        indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("ingest_runs")}
        assert indexes == {"ix_ingest_runs_fingerprint": ["fingerprint"]}
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op_and_keeps_rows(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                ingest_runs.insert().values(
                    id="run-1",
                    table_name="orders",
                    source="orders.csv",
                    fingerprint="abc",
                    status="running",
                    started_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                )
            )
        assert upgrade(database_url) == "0008"
        with engine.connect() as connection:
            rows = connection.execute(sa.select(ingest_runs.c.id, ingest_runs.c.rows_read)).all()
        assert rows == [("run-1", 0)]  # rows_read took its server default
    finally:
        engine.dispose()


def test_tables_py_matches_the_migrations(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_status_check_constraint_rejects_unknown_status(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                ingest_runs.insert().values(
                    id="run-x",
                    table_name="orders",
                    source="orders.csv",
                    fingerprint="abc",
                    status="done",
                    started_at=datetime(2024, 1, 1, tzinfo=UTC),
                )
            )
    finally:
        engine.dispose()


def test_database_from_a_newer_retain_is_refused(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(ConfigError, match=r"revision '9999'.*up to '0008'"):
        upgrade(database_url)


def test_profiles_table_has_one_typed_column_per_profile_column(database_url):
    from retain.contract.profile import PROFILE, ProfileType

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("customer_profiles")}
    finally:
        engine.dispose()
    assert list(columns) == [*PROFILE.names, "segments", "row_hash", "snapshot_id"]
    sqlite = database_url.startswith("sqlite")
    expected = {
        ProfileType.STRING: str,
        ProfileType.INTEGER: int,
        ProfileType.FLOAT: float,
        ProfileType.TIMESTAMP: int if sqlite else datetime,  # SQLite: integer microseconds since 1970
    }
    for column in PROFILE:
        if column.name != "customer_id":
            assert columns[column.name]["type"].python_type is expected[column.type], column.name


def test_upgrade_from_0002_keeps_the_run_log_and_drops_the_json_profiles(database_url):
    from alembic import command

    from retain.state.migrate import alembic_config

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "0002")
            connection.execute(
                ingest_runs.insert().values(
                    id="run-1",
                    table_name="orders",
                    source="o.csv",
                    fingerprint="f",
                    status="committed",
                    started_at=datetime(2024, 1, 2, tzinfo=UTC),
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO customer_profiles (customer_id, snapshot_id, as_of, profile, refreshed_at) "
                    "VALUES ('C1', 's1', '2024-01-01', '{}', '2024-01-01')"
                )
            )
        assert upgrade(database_url) == "0008"
        with engine.connect() as connection:
            assert connection.execute(sa.select(ingest_runs.c.id)).scalars().all() == ["run-1"]
            assert connection.execute(sa.text("SELECT count(*) FROM customer_profiles")).scalar_one() == 0
    finally:
        engine.dispose()
