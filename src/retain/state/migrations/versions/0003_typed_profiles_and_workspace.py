"""Typed customer profiles and the workspace row.

``customer_profiles`` becomes one typed column per column of the profile spec (instead of a JSON document),
plus a row hash so that a refresh rewrites only the profiles that changed; it is a cache of the current marts
snapshot, so the old table is dropped and the next ``retain refresh`` fills the new one. ``workspace`` holds the
id of the workspace the database belongs to and the current snapshot, switched in the transaction that writes
the profiles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Profile timestamps: timestamptz on PostgreSQL, integer microseconds since 1970 on SQLite (fast bulk writes).
_TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
_INDEXED = ("lifecycle_state", "rfm_segment", "risk_rank", "band")


def upgrade() -> None:
    # Frozen copy of the schema at this revision: later changes go in new revisions, never here.
    for column in ("lifecycle", "rfm_segment", "snapshot_id"):
        op.drop_index(op.f(f"ix_customer_profiles_{column}"), table_name="customer_profiles")
    op.drop_table("customer_profiles")
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("acquisition_channel", sa.Text(), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=True),
        sa.Column("tenure_days", sa.BigInteger(), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=True),
        sa.Column("total_revenue", sa.Float(), nullable=True),
        sa.Column("aov", sa.Float(), nullable=True),
        sa.Column("first_order_at", _TIMESTAMP, nullable=True),
        sa.Column("last_order_at", _TIMESTAMP, nullable=True),
        sa.Column("days_since_last_order", sa.BigInteger(), nullable=True),
        sa.Column("r_score", sa.BigInteger(), nullable=True),
        sa.Column("f_score", sa.BigInteger(), nullable=True),
        sa.Column("m_score", sa.BigInteger(), nullable=True),
        sa.Column("rfm", sa.Text(), nullable=True),
        sa.Column("rfm_segment", sa.Text(), nullable=True),
        sa.Column("lifecycle_state", sa.Text(), nullable=True),
        sa.Column("subscription_status", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("mrr", sa.Float(), nullable=True),
        sa.Column("subscription_started_at", _TIMESTAMP, nullable=True),
        sa.Column("events_7d", sa.BigInteger(), nullable=True),
        sa.Column("events_30d", sa.BigInteger(), nullable=True),
        sa.Column("events_90d", sa.BigInteger(), nullable=True),
        sa.Column("logins_7d", sa.BigInteger(), nullable=True),
        sa.Column("logins_30d", sa.BigInteger(), nullable=True),
        sa.Column("logins_90d", sa.BigInteger(), nullable=True),
        sa.Column("usage_trend", sa.Float(), nullable=True),
        sa.Column("days_since_last_event", sa.BigInteger(), nullable=True),
        sa.Column("days_since_last_login", sa.BigInteger(), nullable=True),
        sa.Column("tickets_open", sa.BigInteger(), nullable=True),
        sa.Column("complaints_unresolved", sa.BigInteger(), nullable=True),
        sa.Column("nps_score", sa.BigInteger(), nullable=True),
        sa.Column("nps_at", _TIMESTAMP, nullable=True),
        sa.Column("csat_score", sa.BigInteger(), nullable=True),
        sa.Column("csat_at", _TIMESTAMP, nullable=True),
        sa.Column("p_churn", sa.Float(), nullable=True),
        sa.Column("clv", sa.Float(), nullable=True),
        sa.Column("revenue_at_risk", sa.Float(), nullable=True),
        sa.Column("risk_rank", sa.BigInteger(), nullable=True),
        sa.Column("health", sa.BigInteger(), nullable=True),
        sa.Column("band", sa.Text(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.Text(), nullable=True),
        sa.Column("playbook", sa.Text(), nullable=True),
        sa.Column("segments", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_customer_profiles_{column}"), "customer_profiles", [column], unique=False)
    op.create_table(
        "workspace",
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=True),
        sa.Column("snapshot_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("slot = 1", name=op.f("ck_workspace_one_row")),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_workspace")),
    )


def downgrade() -> None:
    op.drop_table("workspace")
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_customer_profiles_{column}"), table_name="customer_profiles")
    op.drop_table("customer_profiles")
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
    for column in ("lifecycle", "rfm_segment", "snapshot_id"):
        op.create_index(op.f(f"ix_customer_profiles_{column}"), "customer_profiles", [column], unique=False)
