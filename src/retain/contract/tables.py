"""The six canonical tables (DESIGN.md section 3), declared once.

Everything that reads or writes facts (ingest, lake, synth, analytics, ``retain schema``) takes its column
names, logical types and rules from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

from retain.contract.taxonomy import CHURN_REASONS
from retain.errors import InputError

__all__ = [
    "CHURN_REASONS",
    "CONTROL_CHARACTERS",
    "ID_MAX_CHARS",
    "TABLES",
    "Column",
    "ColumnType",
    "RowRule",
    "TableName",
    "TableSpec",
    "id_column",
    "table_spec",
]


class TableName(StrEnum):
    CUSTOMERS = "customers"
    ORDERS = "orders"
    SUBSCRIPTIONS = "subscriptions"
    EVENTS = "events"
    TICKETS = "tickets"
    FEEDBACK = "feedback"


class ColumnType(StrEnum):
    STRING = "string"
    TIMESTAMP = "timestamp"
    DATE = "date"
    FLOAT = "float"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    JSON = "json"

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW_TYPES[self]


_ARROW_TYPES = {
    ColumnType.STRING: pa.string(),
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColumnType.DATE: pa.date32(),
    ColumnType.FLOAT: pa.float64(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.BOOLEAN: pa.bool_(),
    ColumnType.JSON: pa.string(),
}


ID_MAX_CHARS = 255
"""Longest id (in characters) a key column may hold: the state DB stores ids as VARCHAR(255) on PostgreSQL."""

CONTROL_CHARACTERS = "[\\x00-\\x1f\\x7f-\\x9f]"
"""Unicode control characters (C0, DEL, C1) as a regular expression class: invisible in an id, and tabs or line
breaks in one break every file and link it is written to."""


@dataclass(frozen=True)
class Column:
    """One column of a canonical table and the rules a value must meet.

    Every text value (``STRING`` and ``JSON``) must also be free of NUL, which PostgreSQL text cannot hold; an id
    (``no_control_characters``) may hold no control character at all.
    """

    name: str
    type: ColumnType
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    uppercase: bool = False
    max_length: int | None = None
    """Most characters a text value may have."""
    no_control_characters: bool = False
    """Reject any control character (``CONTROL_CHARACTERS``), not only NUL."""

    @property
    def rules(self) -> list[str]:
        out = []
        if self.required:
            out.append("not empty")
        if self.max_length is not None:
            out.append(f"at most {self.max_length} characters")
        if self.no_control_characters:
            out.append("no control characters")
        if self.allowed:
            out.append("one of " + ", ".join(self.allowed))
        if self.min_value is not None:
            out.append(f">= {self.min_value:g}")
        if self.max_value is not None:
            out.append(f"<= {self.max_value:g}")
        if self.pattern:
            out.append(f"matches {self.pattern}")
        return out


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of one row; violations are rejected under ``reason``.

    ``column`` names the column reported in the rejects file. The check itself lives in
    ``retain.contract.validate`` under the rule's ``name``.
    """

    name: str
    column: str
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: TableName
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    time_column: str
    description: str
    row_rules: tuple[RowRule, ...] = ()
    extras_column: str | None = None
    """JSON column that can hold unknown input columns (``--keep-extra``)."""
    derived_key: bool = False
    """The key may be missing in the input; it is then the hash of all other fields."""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type.arrow, nullable=not c.required) for c in self.columns])


def id_column(name: str, what: str, *, required: bool = True) -> Column:
    """A key, reference or short label column: at most ID_MAX_CHARS long, and free of control characters."""
    return Column(
        name,
        ColumnType.STRING,
        required=required,
        description=what,
        max_length=ID_MAX_CHARS,
        no_control_characters=True,
    )


CUSTOMERS = TableSpec(
    name=TableName.CUSTOMERS,
    key=("customer_id",),
    time_column="created_at",
    description="One row per known customer. Facts may name customers not listed here.",
    extras_column="attributes",
    columns=(
        id_column("customer_id", "Your identifier of the customer."),
        Column("created_at", ColumnType.TIMESTAMP, required=True, description="Sign-up or first-seen time."),
        Column("email", ColumnType.STRING, pattern=r"^[^@\s]+@[^@\s]+$", description="Contact address."),
        Column("name", ColumnType.STRING, description="Display name."),
        Column(
            "country",
            ColumnType.STRING,
            pattern=r"^[A-Z]{2}$",
            uppercase=True,
            description="ISO-3166 alpha-2 code, e.g. DE.",
        ),
        Column("birth_date", ColumnType.DATE, description="Date of birth (for birthday rewards)."),
        Column("acquisition_channel", ColumnType.STRING, description="Where the customer came from."),
        Column("attributes", ColumnType.JSON, description="Any other fields, as a JSON object."),
    ),
)

ORDERS = TableSpec(
    name=TableName.ORDERS,
    key=("order_id",),
    time_column="ordered_at",
    description="Purchases. Refunds carry a negative amount and status refunded.",
    row_rules=(
        RowRule(
            "amount_sign",
            "amount",
            "amount must be >= 0 unless status is refunded (refunds may be negative)",
        ),
    ),
    columns=(
        id_column("order_id", "Order or invoice number."),
        id_column("customer_id", "Who ordered."),
        Column("ordered_at", ColumnType.TIMESTAMP, required=True, description="When the order was placed."),
        Column("amount", ColumnType.FLOAT, required=True, description="Order value in currency units."),
        Column(
            "status",
            ColumnType.STRING,
            required=True,
            allowed=("completed", "refunded", "canceled"),
            description="Order state.",
        ),
        Column("items", ColumnType.INTEGER, min_value=0, description="Number of items."),
        Column("discount_code", ColumnType.STRING, description="Coupon used, if any."),
        Column("channel", ColumnType.STRING, description="Sales channel (web, store, app…)."),
    ),
)

SUBSCRIPTIONS = TableSpec(
    name=TableName.SUBSCRIPTIONS,
    key=("subscription_id", "started_at"),
    time_column="started_at",
    description="One row per subscription period at a constant price; a plan change ends one row and starts the next.",
    row_rules=(RowRule("ended_after_started", "ended_at", "ended_at must not be before started_at"),),
    columns=(
        id_column("subscription_id", "Subscription identifier."),
        id_column("customer_id", "Subscriber."),
        Column("plan", ColumnType.STRING, required=True, description="Plan name."),
        Column("mrr", ColumnType.FLOAT, required=True, min_value=0, description="Monthly-normalised revenue."),
        Column("started_at", ColumnType.TIMESTAMP, required=True, description="Start of this period."),
        Column("ended_at", ColumnType.TIMESTAMP, description="End of this period; empty while running."),
        Column(
            "status",
            ColumnType.STRING,
            required=True,
            allowed=("active", "paused", "canceled", "past_due"),
            description="State during this period.",
        ),
        Column("cancel_reason", ColumnType.STRING, allowed=CHURN_REASONS, description="Churn-reason code."),
        Column(
            "churn_type",
            ColumnType.STRING,
            allowed=("voluntary", "involuntary"),
            description="How the subscription ended.",
        ),
        Column("billing_period_months", ColumnType.INTEGER, min_value=1, description="Billing cycle."),
    ),
)

EVENTS = TableSpec(
    name=TableName.EVENTS,
    key=("event_id",),
    time_column="occurred_at",
    description="Product usage and engagement events.",
    extras_column="properties",
    derived_key=True,
    columns=(
        id_column("event_id", "Event id; if empty, a hash of all fields.", required=False),
        id_column("customer_id", "Who did it."),
        Column("event_type", ColumnType.STRING, required=True, description="login, feature_used, payment_failed…"),
        Column("occurred_at", ColumnType.TIMESTAMP, required=True, description="When it happened."),
        Column("properties", ColumnType.JSON, description='JSON object, e.g. {"feature": "reports"}.'),
    ),
)

TICKETS = TableSpec(
    name=TableName.TICKETS,
    key=("ticket_id",),
    time_column="opened_at",
    description="Support tickets, including complaints.",
    row_rules=(RowRule("resolved_after_opened", "resolved_at", "resolved_at must not be before opened_at"),),
    columns=(
        id_column("ticket_id", "Ticket identifier."),
        id_column("customer_id", "Who opened it."),
        Column("opened_at", ColumnType.TIMESTAMP, required=True, description="When it was opened."),
        Column("resolved_at", ColumnType.TIMESTAMP, description="When it was resolved; empty while open."),
        Column("category", ColumnType.STRING, description="Topic."),
        Column("priority", ColumnType.STRING, description="Priority."),
        Column("is_complaint", ColumnType.BOOLEAN, required=True, description="true/false, 1/0, yes/no."),
        Column("satisfaction", ColumnType.INTEGER, min_value=1, max_value=5, description="Rating 1–5."),
    ),
)

FEEDBACK = TableSpec(
    name=TableName.FEEDBACK,
    key=("response_id",),
    time_column="responded_at",
    description="Survey answers: NPS, CSAT, exit surveys.",
    row_rules=(RowRule("score_scale", "score", "NPS scores are 0–10 and CSAT scores 1–5"),),
    columns=(
        id_column("response_id", "Answer identifier."),
        id_column("customer_id", "Who answered."),
        Column("survey", ColumnType.STRING, required=True, description="nps, csat, exit or your own name."),
        Column("score", ColumnType.INTEGER, min_value=0, max_value=10, description="NPS 0–10, CSAT 1–5."),
        Column("reason", ColumnType.STRING, allowed=CHURN_REASONS, description="Churn-reason code."),
        Column("comment", ColumnType.STRING, description="Free text."),
        Column("responded_at", ColumnType.TIMESTAMP, required=True, description="When it was answered."),
    ),
)

TABLES: dict[TableName, TableSpec] = {
    spec.name: spec for spec in (CUSTOMERS, ORDERS, SUBSCRIPTIONS, EVENTS, TICKETS, FEEDBACK)
}


def table_spec(name: str) -> TableSpec:
    """Look a table up by name; an unknown name lists the valid ones."""
    try:
        return TABLES[TableName(name)]
    except ValueError:
        valid = ", ".join(TABLES)
        raise InputError(f"Unknown table {name!r}. Valid tables: {valid}.") from None
