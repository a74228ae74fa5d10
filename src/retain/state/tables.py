"""Tables of the state database (SQLAlchemy Core metadata).

The schema itself is created and changed only by the Alembic migrations in ``migrations/versions``; this module
describes the current head so that queries are typed. A test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["NAMING_CONVENTION", "RunStatus", "UTCDateTime", "customer_profiles", "ingest_runs", "metadata"]

# Deterministic constraint names: Alembic batch mode on SQLite can only drop or alter named constraints.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class RunStatus(StrEnum):
    """Life cycle of an ingest run: ``running`` until it ends as one of the other three."""

    RUNNING = "running"
    COMMITTED = "committed"
    FAILED = "failed"
    SKIPPED = "skipped"


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC and
    given back their UTC zone when read. Naive datetimes are refused on the way in: their zone is unknown.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp {value!r} has no time zone; pass a timezone-aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # uuid4, made by the application: same on every backend
    sa.Column("table_name", sa.String(64), nullable=False),  # canonical table ingested into
    sa.Column("source", sa.Text, nullable=False),  # file path or URL read
    sa.Column("fingerprint", sa.String(128), nullable=False, index=True),  # content hash: re-ingest detection
    sa.Column(
        "status",
        sa.String(16),
        sa.CheckConstraint(
            "status IN ('running', 'committed', 'failed', 'skipped')",
            name="status",
        ),
        nullable=False,
    ),
    sa.Column("rows_read", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("rows_accepted", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("rows_rejected", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("batch_path", sa.Text, nullable=True),  # lake batch written by a committed run
    sa.Column("rejects_path", sa.Text, nullable=True),  # rejects file, when rows were rejected
    sa.Column("error", sa.Text, nullable=True),  # why the run failed
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
)


customer_profiles = sa.Table(
    "customer_profiles",
    metadata,
    sa.Column("customer_id", sa.String(255), primary_key=True),
    sa.Column("snapshot_id", sa.String(64), nullable=False, index=True),  # marts snapshot the row comes from
    sa.Column("as_of", UTCDateTime, nullable=False),  # instant the profile describes
    # A few typed copies of profile fields, for filtering and sorting in SQL (API, dashboard, playbooks).
    sa.Column("lifecycle", sa.String(32), nullable=True, index=True),
    sa.Column("rfm_segment", sa.String(32), nullable=True, index=True),
    sa.Column("mrr", sa.Float, nullable=True),
    sa.Column("total_revenue", sa.Float, nullable=True),
    sa.Column("days_since_last_order", sa.Integer, nullable=True),
    sa.Column("profile", sa.Text, nullable=False),  # the full profile row as a JSON object
    sa.Column("refreshed_at", UTCDateTime, nullable=False),  # when the refresh that wrote the row ran
)
