"""customer_profiles: one row per customer, upserted by `retain refresh` from the current marts snapshot.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXED = ("lifecycle", "rfm_segment", "snapshot_id")


def upgrade() -> None:
    # Frozen copy of the schema at this revision: later changes go in new revisions, never here.
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifecycle", sa.String(32), nullable=True),
        sa.Column("rfm_segment", sa.String(32), nullable=True),
        sa.Column("mrr", sa.Float(), nullable=True),
        sa.Column("total_revenue", sa.Float(), nullable=True),
        sa.Column("days_since_last_order", sa.Integer(), nullable=True),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_customer_profiles_{column}"), "customer_profiles", [column], unique=False)


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_customer_profiles_{column}"), table_name="customer_profiles")
    op.drop_table("customer_profiles")
