"""playbooks: enrolments, their steps, the suppression list, and the tasks, tags and coupons steps write.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Frozen copy of the schema at this revision: later changes go in new revisions, never here.
    op.create_table(
        "playbook_enrolments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("playbook", sa.String(255), nullable=False),
        sa.Column("playbook_version", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("trigger_key", sa.String(255), nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("holdout_share", sa.Float(), nullable=False),
        sa.Column("fired_at", _TZ, nullable=False),
        sa.Column("enrolled_at", _TZ, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=True),
        sa.Column("next_step_due_at", _TZ, nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.CheckConstraint("arm IN ('treatment', 'holdout')", name=op.f("ck_playbook_enrolments_arm")),
        sa.CheckConstraint("status IN ('active', 'completed', 'exited')", name=op.f("ck_playbook_enrolments_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_enrolments")),
        sa.UniqueConstraint(
            "playbook",
            "customer_id",
            "trigger_key",
            name=op.f("uq_playbook_enrolments_playbook_customer_id_trigger_key"),
        ),
    )
    op.create_index("ix_playbook_enrolments_customer_id", "playbook_enrolments", ["customer_id"], unique=False)
    op.create_index(
        "ix_playbook_enrolments_status_next_step_due_at",
        "playbook_enrolments",
        ["status", "next_step_due_at"],
        unique=False,
    )
    op.create_table(
        "playbook_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=True),
        sa.Column("send_at", _TZ, nullable=True),
        sa.Column("at", _TZ, nullable=False),
        sa.CheckConstraint(
            "status IN ('enqueued', 'done', 'held_out', 'suppressed', 'skipped', 'failed')",
            name=op.f("ck_playbook_steps_status"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["playbook_enrolments.id"],
            name=op.f("fk_playbook_steps_enrolment_id_playbook_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_steps")),
        sa.UniqueConstraint("enrolment_id", "step", name=op.f("uq_playbook_steps_enrolment_id_step")),
    )
    op.create_index("ix_playbook_steps_send_at", "playbook_steps", ["send_at"], unique=False)
    op.create_table(
        "suppression_list",
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.CheckConstraint("reason IN ('unsubscribed', 'bounced', 'erased')", name=op.f("ck_suppression_list_reason")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_suppression_list")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("playbook", sa.String(255), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", _TZ, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("closed_at", _TZ, nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_tasks_status")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["playbook_enrolments.id"], name=op.f("fk_tasks_enrolment_id_playbook_enrolments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("enrolment_id", "step", name=op.f("uq_tasks_enrolment_id_step")),
    )
    op.create_index("ix_tasks_customer_id", "tasks", ["customer_id"], unique=False)
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("playbook", sa.String(255), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["playbook_enrolments.id"],
            name=op.f("fk_customer_tags_enrolment_id_playbook_enrolments"),
        ),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=op.f("pk_customer_tags")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("playbook", sa.String(255), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("percent_off", sa.Float(), nullable=True),
        sa.Column("amount_off", sa.Float(), nullable=True),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("redeemed_at", _TZ, nullable=True),
        sa.CheckConstraint("(percent_off IS NULL) <> (amount_off IS NULL)", name=op.f("ck_coupons_one_discount")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["playbook_enrolments.id"], name=op.f("fk_coupons_enrolment_id_playbook_enrolments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
        sa.UniqueConstraint("enrolment_id", "step", name=op.f("uq_coupons_enrolment_id_step")),
    )
    op.create_index("ix_coupons_customer_id", "coupons", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_coupons_customer_id", table_name="coupons")
    op.drop_table("coupons")
    op.drop_table("customer_tags")
    op.drop_index("ix_tasks_customer_id", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("suppression_list")
    op.drop_index("ix_playbook_steps_send_at", table_name="playbook_steps")
    op.drop_table("playbook_steps")
    op.drop_index("ix_playbook_enrolments_status_next_step_due_at", table_name="playbook_enrolments")
    op.drop_index("ix_playbook_enrolments_customer_id", table_name="playbook_enrolments")
    op.drop_table("playbook_enrolments")
