"""Tables of the state database (SQLAlchemy Core metadata).

The schema itself is created and changed only by the Alembic migrations in ``migrations/versions``; this module
describes the current head so that queries are typed. A test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from retain.contract.profile import PROFILE, ProfileType

__all__ = [
    "NAMING_CONVENTION",
    "PROFILE_INDEXES",
    "ApiScope",
    "Arm",
    "EnrolmentStatus",
    "ListedReason",
    "MessageKind",
    "OutboxStatus",
    "ProfileTimestamp",
    "RunStatus",
    "StepStatus",
    "TaskStatus",
    "UTCDateTime",
    "api_keys",
    "coupons",
    "customer_profiles",
    "customer_tags",
    "dashboard_users",
    "epoch_micros",
    "fact_inbox",
    "ingest_runs",
    "metadata",
    "outbox",
    "playbook_enrolments",
    "playbook_steps",
    "suppression_list",
    "tasks",
    "web_sessions",
    "webhook_events",
    "workspace",
]

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
        value = _aware_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)


def _aware_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused (its zone is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp {value!r} has no time zone; pass a timezone-aware datetime (UTC)")
    return value.astimezone(UTC)


def _as_utc(value: datetime) -> datetime:
    """A datetime read back from a database: naive ones are UTC (SQLite), aware ones converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


class ProfileTimestamp(sa.TypeDecorator[datetime]):
    """Timestamps of profile columns: ``timestamptz`` on PostgreSQL, integer microseconds since 1970 on SQLite.

    A refresh writes up to millions of profile rows; SQLite has no timestamp type, and formatting every value as
    text (what :class:`UTCDateTime` does) costs about a second per column per million rows, while integers come
    straight out of Arrow. Comparisons in SQL still work: bound datetimes are converted the same way.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _aware_utc(value)
        return epoch_micros(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return _EPOCH + timedelta(microseconds=value)
        return _as_utc(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(value: datetime) -> int:
    """Microseconds from 1970-01-01 UTC to ``value`` (timezone-aware), exactly."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _profile_type(kind: ProfileType) -> sa.types.TypeEngine[Any]:
    return {
        ProfileType.STRING: sa.Text(),
        ProfileType.INTEGER: sa.BigInteger(),
        ProfileType.FLOAT: sa.Float(),
        ProfileType.BOOLEAN: sa.Boolean(),
        ProfileType.TIMESTAMP: ProfileTimestamp(),
    }[kind]


workspace = sa.Table(
    "workspace",
    metadata,
    # One row: the workspace this database belongs to (a second workspace opening it is refused) and the marts
    # snapshot that is current, switched in the transaction that writes that snapshot's profiles.
    sa.Column("slot", sa.Integer, sa.CheckConstraint("slot = 1", name="one_row"), primary_key=True),
    sa.Column("workspace_id", sa.String(36), nullable=False),
    sa.Column("path", sa.Text, nullable=False),  # where the workspace was last opened from (for the message)
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    sa.Column("snapshot_id", sa.String(64), nullable=True),
    sa.Column("snapshot_as_of", UTCDateTime, nullable=True),
    sa.Column("switched_at", UTCDateTime, nullable=True),
    sa.Column("previous_snapshot_id", sa.String(64), nullable=True),  # current before the last switch
)

PROFILE_INDEXES = ("lifecycle_state", "rfm_segment", "risk_rank", "band")
"""Profile columns indexed in ``customer_profiles`` (the filters of lists in the API and dashboard)."""

customer_profiles = sa.Table(
    "customer_profiles",
    metadata,
    # One typed column per column of the profile spec (retain.contract.profile.PROFILE).
    sa.Column("customer_id", sa.String(255), primary_key=True),
    *(
        sa.Column(column.name, _profile_type(column.type), nullable=True, index=column.name in PROFILE_INDEXES)
        for column in PROFILE
        if column.name != "customer_id"
    ),
    sa.Column("segments", sa.Text, nullable=True),  # JSON array of the user-defined segments the customer is in
    sa.Column("row_hash", sa.BigInteger, nullable=False),  # hash of the row: a refresh rewrites only changed rows
    sa.Column("snapshot_id", sa.String(64), nullable=False),  # the snapshot that last wrote the row
)


class OutboxStatus(StrEnum):
    """Life cycle of an outbox message.

    ``pending`` → ``delivering`` (claimed by a worker, under a lease) → ``delivered``; a failed attempt goes to
    ``retry`` (due again after a back-off) or, permanently failed or out of attempts, to ``dead``. A
    ``delivering`` row whose lease ran out (its worker died) is claimable again.
    """

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


class MessageKind(StrEnum):
    """What an outbox message is, and so which kind of channel can deliver it."""

    EMAIL = "email"
    """``payload`` is ``{to, subject, text, html, headers, unsubscribe_url?}``; an SMTP channel sends it."""
    WEBHOOK = "webhook"
    """``payload`` is the JSON body a webhook channel POSTs."""
    FILE = "file"
    """``payload`` is the JSON object a file channel appends as one line."""


def _in(values: type[StrEnum]) -> str:
    return "({})".format(", ".join(f"'{v.value}'" for v in values))


outbox = sa.Table(
    "outbox",
    metadata,
    # One row per message to send. Rows are written by the playbook runner in the transaction of the enrolment
    # and delivered by `retain worker`; the idempotency key goes to the receiver (Idempotency-Key, Message-ID).
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("playbook", sa.String(255), nullable=False),
    sa.Column("playbook_version", sa.String(64), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.String(255), nullable=False),
    sa.Column("trigger_key", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),  # a [channels.NAME] of retain.toml
    sa.Column("kind", sa.String(16), sa.CheckConstraint(f"kind IN {_in(MessageKind)}", name="kind"), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column(
        "status",
        sa.String(16),
        sa.CheckConstraint(f"status IN {_in(OutboxStatus)}", name="status"),
        nullable=False,
    ),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("due_at", UTCDateTime, nullable=False),
    # When a worker may next take the row: due_at, then the back-off after a failure, the lease end while
    # delivering (so one index serves every claim).
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("claimed_by", sa.String(255), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),  # one line, never a credential
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    # One message per step of one enrolment, whatever the key: a new playbook version cannot send it again.
    sa.UniqueConstraint("playbook", "customer_id", "trigger_key", "step"),
    sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)


class Arm(StrEnum):
    """The arm of a playbook enrolment: contacted (``treatment``) or held out to measure the effect (``holdout``)."""

    TREATMENT = "treatment"
    HOLDOUT = "holdout"


class EnrolmentStatus(StrEnum):
    """Life cycle of an enrolment: ``active`` while steps are left, then ``completed``, or ``exited`` early (its
    conditions stopped holding before a step that re-checks them)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    EXITED = "exited"


class StepStatus(StrEnum):
    """What became of one step of one enrolment."""

    ENQUEUED = "enqueued"
    """Treatment arm: a message was written to the outbox."""
    DONE = "done"
    """Treatment arm: a task, tag or coupon row was written (or an offer recorded)."""
    HELD_OUT = "held_out"
    """Holdout arm: it would have been sent (the same decision path), but nothing was written."""
    SUPPRESSED = "suppressed"
    """The pressure rules stopped it; ``reason`` says which (frequency_cap, lower_priority, unsubscribed …)."""
    SKIPPED = "skipped"
    """The playbook's conditions no longer held when the step re-checked them (the enrolment exits)."""
    FAILED = "failed"
    """The step could not be carried out (a template that does not render for this customer); ``reason`` says why."""


class ListedReason(StrEnum):
    """Why a customer is on the suppression list."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    ERASED = "erased"


class TaskStatus(StrEnum):
    """A task for a person: ``open`` until someone closes it."""

    OPEN = "open"
    CLOSED = "closed"


playbook_enrolments = sa.Table(
    "playbook_enrolments",
    metadata,
    # One row per (playbook, customer, trigger key): the unique constraint is what makes enrolment idempotent.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("playbook", sa.String(255), nullable=False),
    sa.Column("playbook_version", sa.String(64), nullable=False),  # the file's version when the customer entered
    sa.Column("customer_id", sa.String(255), nullable=False, index=True),
    sa.Column("trigger_key", sa.String(255), nullable=False),
    sa.Column("arm", sa.String(16), sa.CheckConstraint(f"arm IN {_in(Arm)}", name="arm"), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),  # the arm hash's salt (per playbook name and workspace)
    sa.Column("holdout_share", sa.Float, nullable=False),  # the share the arm was drawn with
    sa.Column("fired_at", UTCDateTime, nullable=False),
    sa.Column("enrolled_at", UTCDateTime, nullable=False),  # the run's as_of; step delays count from it
    sa.Column("detail", sa.Text, nullable=False),  # JSON: the trigger's facts
    sa.Column(
        "status",
        sa.String(16),
        sa.CheckConstraint(f"status IN {_in(EnrolmentStatus)}", name="status"),
        nullable=False,
    ),
    sa.Column("next_step", sa.Integer, nullable=True),  # index into the playbook's steps; null when finished
    sa.Column("next_step_due_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),  # wall-clock time of the run that enrolled
    sa.UniqueConstraint("playbook", "customer_id", "trigger_key"),
    sa.Index("ix_playbook_enrolments_status_next_step_due_at", "status", "next_step_due_at"),
)

playbook_steps = sa.Table(
    "playbook_steps",
    metadata,
    # One row per enrolment and step, written when the step was decided, whatever the outcome.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("enrolment_id", sa.Integer, sa.ForeignKey("playbook_enrolments.id"), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column(
        "status", sa.String(16), sa.CheckConstraint(f"status IN {_in(StepStatus)}", name="status"), nullable=False
    ),
    sa.Column("reason", sa.Text, nullable=True),  # suppression reason, or why it was skipped or failed
    sa.Column("idempotency_key", sa.String(64), nullable=True),  # the outbox key (held_out: the would-be key)
    sa.Column("send_at", UTCDateTime, nullable=True),  # when it goes (or would have gone); null when not sent
    sa.Column("at", UTCDateTime, nullable=False),  # the run's as_of
    sa.UniqueConstraint("enrolment_id", "step"),
    sa.Index("ix_playbook_steps_send_at", "send_at"),
)

suppression_list = sa.Table(
    "suppression_list",
    metadata,
    # Customers who must not be contacted: unsubscribed (a signed link), bounced (the mail server), erased.
    sa.Column("customer_id", sa.String(255), primary_key=True),
    sa.Column(
        "reason", sa.String(16), sa.CheckConstraint(f"reason IN {_in(ListedReason)}", name="reason"), nullable=False
    ),
    sa.Column("at", UTCDateTime, nullable=False),
)

tasks = sa.Table(
    "tasks",
    metadata,
    # Work for a person (a customer-success call), made by a playbook's task step.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String(255), nullable=False, index=True),
    sa.Column("playbook", sa.String(255), nullable=True),
    sa.Column("enrolment_id", sa.Integer, sa.ForeignKey("playbook_enrolments.id"), nullable=True),
    sa.Column("step", sa.Integer, nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("assignee", sa.String(255), nullable=True),
    sa.Column(
        "status", sa.String(16), sa.CheckConstraint(f"status IN {_in(TaskStatus)}", name="status"), nullable=False
    ),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("enrolment_id", "step"),
)

customer_tags = sa.Table(
    "customer_tags",
    metadata,
    sa.Column("customer_id", sa.String(255), primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True),
    sa.Column("playbook", sa.String(255), nullable=True),  # the playbook that tagged the customer first
    sa.Column("enrolment_id", sa.Integer, sa.ForeignKey("playbook_enrolments.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

coupons = sa.Table(
    "coupons",
    metadata,
    # Single-use codes issued by coupon steps; redeemed_at is set once, when the code is used.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("customer_id", sa.String(255), nullable=False, index=True),
    sa.Column("playbook", sa.String(255), nullable=True),
    sa.Column("enrolment_id", sa.Integer, sa.ForeignKey("playbook_enrolments.id"), nullable=True),
    sa.Column("step", sa.Integer, nullable=True),
    sa.Column("percent_off", sa.Float, nullable=True),
    sa.Column("amount_off", sa.Float, nullable=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("redeemed_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("(percent_off IS NULL) <> (amount_off IS NULL)", name="one_discount"),
    sa.UniqueConstraint("enrolment_id", "step"),
)


class ApiScope(StrEnum):
    """What a key (or a dashboard user) may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


api_keys = sa.Table(
    "api_keys",
    metadata,
    # The key itself is shown once and never stored: only its SHA-256 (keys are 256-bit random, so a fast hash
    # is enough) and a short prefix that names it in lists and logs.
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scope", sa.String(16), sa.CheckConstraint(f"scope IN {_in(ApiScope)}", name="scope"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

dashboard_users = sa.Table(
    "dashboard_users",
    metadata,
    # People who sign in to the dashboard with a password (argon2 hash); a key works too.
    sa.Column("username", sa.String(255), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("scope", sa.String(16), sa.CheckConstraint(f"scope IN {_in(ApiScope)}", name="scope"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # A signed-in browser: the cookie carries the token, the table only its SHA-256 (a stolen table opens nothing).
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False),  # the username, or "key:<prefix>" for a key sign-in
    sa.Column("scope", sa.String(16), sa.CheckConstraint(f"scope IN {_in(ApiScope)}", name="scope"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

fact_inbox = sa.Table(
    "fact_inbox",
    metadata,
    # Facts received live (API posts, platform webhooks), already validated by the contract, waiting to be
    # flushed into a lake batch. The key makes a re-post of the same fact a no-op.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON object: one canonical row
    sa.Column("source", sa.String(32), nullable=False),  # api, stripe, shopify
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("flushed_at", UTCDateTime, nullable=True),
    sa.Column("ingest_run_id", sa.String(36), nullable=True),  # the ingest run whose batch holds the row
    sa.UniqueConstraint("table_name", "idempotency_key"),
    sa.Index("ix_fact_inbox_flushed_at_id", "flushed_at", "id"),
)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    # Platform events already applied: a redelivered (or replayed) event id changes nothing.
    sa.Column("platform", sa.String(32), primary_key=True),
    sa.Column("event_id", sa.String(255), primary_key=True),
    sa.Column("event_type", sa.String(128), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
)
