"""service: API keys, dashboard users and sessions, the live facts inbox and applied platform webhooks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)
_SCOPES = "scope IN ('read', 'write', 'admin')"


def upgrade() -> None:
    # Frozen copy of the schema at this revision: later changes go in new revisions, never here.
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("last_used_at", _TZ, nullable=True),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.CheckConstraint(_SCOPES, name=op.f("ck_api_keys_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "dashboard_users",
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("disabled_at", _TZ, nullable=True),
        sa.CheckConstraint(_SCOPES, name=op.f("ck_dashboard_users_scope")),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_dashboard_users")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.CheckConstraint(_SCOPES, name=op.f("ck_web_sessions_scope")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"], unique=False)
    op.create_table(
        "fact_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("received_at", _TZ, nullable=False),
        sa.Column("flushed_at", _TZ, nullable=True),
        sa.Column("ingest_run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fact_inbox")),
        sa.UniqueConstraint("table_name", "idempotency_key", name=op.f("uq_fact_inbox_table_name_idempotency_key")),
    )
    op.create_index("ix_fact_inbox_flushed_at_id", "fact_inbox", ["flushed_at", "id"], unique=False)
    op.create_table(
        "webhook_events",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("received_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id", name=op.f("pk_webhook_events")),
    )


def downgrade() -> None:
    op.drop_table("webhook_events")
    op.drop_index("ix_fact_inbox_flushed_at_id", table_name="fact_inbox")
    op.drop_table("fact_inbox")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("dashboard_users")
    op.drop_table("api_keys")
