"""ingest_runs: one row per `retain ingest` of one source into one table.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Frozen copy of the schema at this revision: later changes go in new revisions, never here.
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_accepted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_rejected", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("batch_path", sa.Text(), nullable=True),
        sa.Column("rejects_path", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'committed', 'failed', 'skipped')", name=op.f("ck_ingest_runs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_runs")),
    )
    op.create_index(op.f("ix_ingest_runs_fingerprint"), "ingest_runs", ["fingerprint"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_runs_fingerprint"), table_name="ingest_runs")
    op.drop_table("ingest_runs")
