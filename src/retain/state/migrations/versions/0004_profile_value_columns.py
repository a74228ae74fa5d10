"""Profile risk columns follow the expected-loss ranking: value_if_retained, expected_loss, p_alive,
expected_orders replace clv and revenue_at_risk.

``customer_profiles`` is a cache of the current snapshot's profiles mart, so it is rebuilt empty and the current
snapshot pointer cleared: the next ``retain refresh`` writes both together again (until then the views say to
run it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
_INDEXED = ("lifecycle_state", "rfm_segment", "risk_rank", "band")
_COMPUTED = (
    ("name", sa.Text()),
    ("email", sa.Text()),
    ("country", sa.Text()),
    ("acquisition_channel", sa.Text()),
    ("created_at", _TIMESTAMP),
    ("tenure_days", sa.BigInteger()),
    ("orders", sa.BigInteger()),
    ("total_revenue", sa.Float()),
    ("aov", sa.Float()),
    ("first_order_at", _TIMESTAMP),
    ("last_order_at", _TIMESTAMP),
    ("days_since_last_order", sa.BigInteger()),
    ("r_score", sa.BigInteger()),
    ("f_score", sa.BigInteger()),
    ("m_score", sa.BigInteger()),
    ("rfm", sa.Text()),
    ("rfm_segment", sa.Text()),
    ("lifecycle_state", sa.Text()),
    ("subscription_status", sa.Text()),
    ("plan", sa.Text()),
    ("mrr", sa.Float()),
    ("subscription_started_at", _TIMESTAMP),
    ("events_7d", sa.BigInteger()),
    ("events_30d", sa.BigInteger()),
    ("events_90d", sa.BigInteger()),
    ("logins_7d", sa.BigInteger()),
    ("logins_30d", sa.BigInteger()),
    ("logins_90d", sa.BigInteger()),
    ("usage_trend", sa.Float()),
    ("days_since_last_event", sa.BigInteger()),
    ("days_since_last_login", sa.BigInteger()),
    ("tickets_open", sa.BigInteger()),
    ("complaints_unresolved", sa.BigInteger()),
    ("nps_score", sa.BigInteger()),
    ("nps_at", _TIMESTAMP),
    ("csat_score", sa.BigInteger()),
    ("csat_at", _TIMESTAMP),
)
_RISK_0003 = (
    ("p_churn", sa.Float()),
    ("clv", sa.Float()),
    ("revenue_at_risk", sa.Float()),
    ("risk_rank", sa.BigInteger()),
    ("health", sa.BigInteger()),
    ("band", sa.Text()),
    ("reasons", sa.Text()),
    ("reason_code", sa.Text()),
    ("playbook", sa.Text()),
)
_RISK_0004 = (
    ("p_churn", sa.Float()),
    ("value_if_retained", sa.Float()),
    ("expected_loss", sa.Float()),
    ("risk_rank", sa.BigInteger()),
    ("p_alive", sa.Float()),
    ("expected_orders", sa.Float()),
    ("health", sa.BigInteger()),
    ("band", sa.Text()),
    ("reasons", sa.Text()),
    ("reason_code", sa.Text()),
    ("playbook", sa.Text()),
)


def _create_profiles(risk: tuple[tuple[str, sa.types.TypeEngine], ...]) -> None:
    # Frozen copy of the schema at this revision: later changes go in new revisions, never here.
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.String(255), nullable=False),
        *(sa.Column(name, kind, nullable=True) for name, kind in (*_COMPUTED, *risk)),
        sa.Column("segments", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_customer_profiles_{column}"), "customer_profiles", [column], unique=False)


def _drop_profiles() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_customer_profiles_{column}"), table_name="customer_profiles")
    op.drop_table("customer_profiles")
    op.execute(sa.text("UPDATE workspace SET snapshot_id = NULL, snapshot_as_of = NULL, switched_at = NULL"))


def upgrade() -> None:
    _drop_profiles()
    _create_profiles(_RISK_0004)


def downgrade() -> None:
    _drop_profiles()
    _create_profiles(_RISK_0003)
