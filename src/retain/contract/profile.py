"""The customer profile (the "360"), declared once: every column, its type and what it means.

One row per customer describes them at an instant ``as_of``. This spec is read by every place that touches a
profile — the analytics that compute it (:func:`retain.analytics.profile.customer_profiles` computes every
column outside the ``risk`` group), the refresh that joins the risk columns from the churn model, the state
database's typed ``customer_profiles`` columns, the segment and playbook-condition compiler (a predicate may read
any column, e.g. ``p_churn > 0.3 AND mrr >= 50``), ``retain customer`` and the docs (``retain schema profile``).

Types are logical (:class:`ProfileType`); each consumer maps them to its own (Ibis, Arrow, SQL). Every column is
nullable: a shop has no ``mrr``, a customer outside the churn model's population has no ``p_churn``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

__all__ = ["PROFILE", "ProfileColumn", "ProfileGroup", "ProfileSpec", "ProfileType"]


class ProfileType(StrEnum):
    """Logical type of a profile column."""

    STRING = "string"
    INTEGER = "int64"
    FLOAT = "float64"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp('UTC')"

    @property
    def ibis(self) -> str:
        """The Ibis dtype string (``"int64"``, ``"timestamp('UTC')"``...)."""
        return self.value

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self]


_ARROW = {
    ProfileType.STRING: pa.string(),
    ProfileType.INTEGER: pa.int64(),
    ProfileType.FLOAT: pa.float64(),
    ProfileType.BOOLEAN: pa.bool_(),
    ProfileType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}


class ProfileGroup(StrEnum):
    """Where a column comes from (the 360 shows them in this order)."""

    IDENTITY = "identity"
    ORDERS = "orders"
    RFM = "rfm"
    LIFECYCLE = "lifecycle"
    SUBSCRIPTION = "subscription"
    USAGE = "usage"
    SUPPORT = "support"
    SURVEYS = "surveys"
    RISK = "risk"
    """From the current churn model at refresh time (null without a trained model)."""


@dataclass(frozen=True)
class ProfileColumn:
    """One column of the customer profile."""

    name: str
    type: ProfileType
    group: ProfileGroup
    description: str


@dataclass(frozen=True)
class ProfileSpec:
    """The ordered columns of the customer profile, with lookups by name and group."""

    columns: tuple[ProfileColumn, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"profile columns repeat: {sorted({n for n in names if names.count(n) > 1})}")

    def __iter__(self) -> Iterator[ProfileColumn]:
        return iter(self.columns)

    def __getitem__(self, name: str) -> ProfileColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def types(self, *, groups: tuple[ProfileGroup, ...] | None = None) -> dict[str, str]:
        """Column → Ibis dtype string, in order (only ``groups`` when given): what a predicate may read."""
        return {c.name: c.type.ibis for c in self.columns if groups is None or c.group in groups}

    def descriptions(self, *, groups: tuple[ProfileGroup, ...] | None = None) -> dict[str, str]:
        """Column → meaning, in order (only ``groups`` when given)."""
        return {c.name: c.description for c in self.columns if groups is None or c.group in groups}

    def in_group(self, group: ProfileGroup) -> list[ProfileColumn]:
        return [c for c in self.columns if c.group is group]

    def markdown(self) -> str:
        """The spec as a Markdown page (``docs/profile.md`` is this text; a test keeps them equal)."""
        lines = [
            "# The customer profile (the 360)",
            "",
            "One row per customer at the snapshot's as-of instant: in the `profiles` mart, the state database's",
            "`customer_profiles` table (one typed column each), `retain customer ID` and the API. Every column may be",
            "used in a segment or playbook condition (e.g. `p_churn > 0.3 AND mrr >= 50`). Generated from",
            "`retain.contract.profile.PROFILE` (`retain schema --profile` prints the same).",
            "",
            "| column | type | group | meaning |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{c.name}` | {c.type.name.lower()} | {c.group} | {c.description} |" for c in self.columns]
        return "\n".join(lines) + "\n"

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of a complete profile table (every column, in order)."""
        return pa.schema([pa.field(c.name, c.type.arrow) for c in self.columns])


PROFILE = ProfileSpec(
    (
        ProfileColumn("customer_id", ProfileType.STRING, ProfileGroup.IDENTITY, "Customer identifier."),
        ProfileColumn("name", ProfileType.STRING, ProfileGroup.IDENTITY, "Display name (customers table)."),
        ProfileColumn("email", ProfileType.STRING, ProfileGroup.IDENTITY, "Contact address (customers table)."),
        ProfileColumn(
            "country", ProfileType.STRING, ProfileGroup.IDENTITY, "ISO-3166 alpha-2 country code (customers table)."
        ),
        ProfileColumn(
            "acquisition_channel",
            ProfileType.STRING,
            ProfileGroup.IDENTITY,
            "Where the customer came from (customers table).",
        ),
        ProfileColumn(
            "created_at",
            ProfileType.TIMESTAMP,
            ProfileGroup.IDENTITY,
            "Sign-up time from the customers table, else the first time any table mentions the customer.",
        ),
        ProfileColumn(
            "tenure_days", ProfileType.INTEGER, ProfileGroup.IDENTITY, "Whole days from created_at to as_of."
        ),
        ProfileColumn("orders", ProfileType.INTEGER, ProfileGroup.ORDERS, "Number of completed orders."),
        ProfileColumn(
            "total_revenue",
            ProfileType.FLOAT,
            ProfileGroup.ORDERS,
            "Net revenue: completed order amounts minus refunds, rounded to cents (0 without orders).",
        ),
        ProfileColumn(
            "aov",
            ProfileType.FLOAT,
            ProfileGroup.ORDERS,
            "Average order value: total_revenue / orders, rounded to cents (null without orders).",
        ),
        ProfileColumn(
            "first_order_at", ProfileType.TIMESTAMP, ProfileGroup.ORDERS, "Time of the first completed order."
        ),
        ProfileColumn(
            "last_order_at", ProfileType.TIMESTAMP, ProfileGroup.ORDERS, "Time of the latest completed order."
        ),
        ProfileColumn(
            "days_since_last_order",
            ProfileType.INTEGER,
            ProfileGroup.ORDERS,
            "Whole days from last_order_at to as_of (null without orders).",
        ),
        ProfileColumn(
            "r_score",
            ProfileType.INTEGER,
            ProfileGroup.RFM,
            "RFM recency score 1-5 (5 = most recent; null without completed orders).",
        ),
        ProfileColumn("f_score", ProfileType.INTEGER, ProfileGroup.RFM, "RFM frequency score 1-5 (5 = most orders)."),
        ProfileColumn(
            "m_score", ProfileType.INTEGER, ProfileGroup.RFM, "RFM monetary score 1-5 (5 = most net revenue)."
        ),
        ProfileColumn("rfm", ProfileType.STRING, ProfileGroup.RFM, "The three RFM scores as text, e.g. '545'."),
        ProfileColumn(
            "rfm_segment", ProfileType.STRING, ProfileGroup.RFM, "Named RFM segment, e.g. 'Champions', 'At risk'."
        ),
        ProfileColumn(
            "lifecycle_state",
            ProfileType.STRING,
            ProfileGroup.LIFECYCLE,
            "Lifecycle state at as_of: new, active, returning, at_risk, dormant, paused or "
            "churned (null without orders or subscriptions).",
        ),
        ProfileColumn(
            "subscription_status",
            ProfileType.STRING,
            ProfileGroup.SUBSCRIPTION,
            "Subscription status at as_of: active, paused, canceled or none.",
        ),
        ProfileColumn(
            "plan",
            ProfileType.STRING,
            ProfileGroup.SUBSCRIPTION,
            "Plan of the running subscription period (null when none runs).",
        ),
        ProfileColumn(
            "mrr",
            ProfileType.FLOAT,
            ProfileGroup.SUBSCRIPTION,
            "Monthly recurring revenue at as_of (0 when paused or canceled, null without any subscription).",
        ),
        ProfileColumn(
            "subscription_started_at",
            ProfileType.TIMESTAMP,
            ProfileGroup.SUBSCRIPTION,
            "Start of the current (or, if canceled, the last) subscription; plan changes and pauses do not reset it.",
        ),
        ProfileColumn(
            "events_7d", ProfileType.INTEGER, ProfileGroup.USAGE, "Events of any type in the 7 days up to as_of."
        ),
        ProfileColumn(
            "events_30d", ProfileType.INTEGER, ProfileGroup.USAGE, "Events of any type in the 30 days up to as_of."
        ),
        ProfileColumn(
            "events_90d", ProfileType.INTEGER, ProfileGroup.USAGE, "Events of any type in the 90 days up to as_of."
        ),
        ProfileColumn("logins_7d", ProfileType.INTEGER, ProfileGroup.USAGE, "Login events in the 7 days up to as_of."),
        ProfileColumn(
            "logins_30d", ProfileType.INTEGER, ProfileGroup.USAGE, "Login events in the 30 days up to as_of."
        ),
        ProfileColumn(
            "logins_90d", ProfileType.INTEGER, ProfileGroup.USAGE, "Login events in the 90 days up to as_of."
        ),
        ProfileColumn(
            "usage_trend",
            ProfileType.FLOAT,
            ProfileGroup.USAGE,
            "Events in the last 30 days / events in the 30 days before (null when the latter is 0).",
        ),
        ProfileColumn(
            "days_since_last_event",
            ProfileType.INTEGER,
            ProfileGroup.USAGE,
            "Whole days from the latest event of any type to as_of (null without events).",
        ),
        ProfileColumn(
            "days_since_last_login",
            ProfileType.INTEGER,
            ProfileGroup.USAGE,
            "Whole days from the latest login to as_of (null without logins).",
        ),
        ProfileColumn(
            "tickets_open",
            ProfileType.INTEGER,
            ProfileGroup.SUPPORT,
            "Support tickets opened and not resolved at as_of.",
        ),
        ProfileColumn(
            "complaints_unresolved",
            ProfileType.INTEGER,
            ProfileGroup.SUPPORT,
            "Complaint tickets not resolved at as_of.",
        ),
        ProfileColumn(
            "nps_score", ProfileType.INTEGER, ProfileGroup.SURVEYS, "Latest NPS answer, 0-10 (null without one)."
        ),
        ProfileColumn("nps_at", ProfileType.TIMESTAMP, ProfileGroup.SURVEYS, "Time of the latest NPS answer."),
        ProfileColumn(
            "csat_score", ProfileType.INTEGER, ProfileGroup.SURVEYS, "Latest CSAT answer, 1-5 (null without one)."
        ),
        ProfileColumn("csat_at", ProfileType.TIMESTAMP, ProfileGroup.SURVEYS, "Time of the latest CSAT answer."),
        ProfileColumn(
            "p_churn",
            ProfileType.FLOAT,
            ProfileGroup.RISK,
            "Probability of churning within the model's horizon (null outside the model's population, or without "
            "a model).",
        ),
        ProfileColumn(
            "value_if_retained",
            ProfileType.FLOAT,
            ProfileGroup.RISK,
            "What the customer brings over the next 12 months if they stay, discounted (subscription: MRR; shop: "
            "expected spend given alive).",
        ),
        ProfileColumn(
            "expected_loss",
            ProfileType.FLOAT,
            ProfileGroup.RISK,
            "Expected loss if nothing is done: p_churn x value_if_retained (the at-risk list's order).",
        ),
        ProfileColumn(
            "risk_rank", ProfileType.INTEGER, ProfileGroup.RISK, "Position in the at-risk list (1 = act first)."
        ),
        ProfileColumn(
            "p_alive",
            ProfileType.FLOAT,
            ProfileGroup.RISK,
            "Shops: probability the customer is still a customer (buying model; null for subscriptions).",
        ),
        ProfileColumn(
            "expected_orders",
            ProfileType.FLOAT,
            ProfileGroup.RISK,
            "Shops: orders expected over the next 12 months (buying model; null for subscriptions).",
        ),
        ProfileColumn(
            "health", ProfileType.INTEGER, ProfileGroup.RISK, "Rules-based health score 0-100 (higher is healthier)."
        ),
        ProfileColumn("band", ProfileType.STRING, ProfileGroup.RISK, "Health band: green, yellow or red."),
        ProfileColumn(
            "reasons",
            ProfileType.STRING,
            ProfileGroup.RISK,
            "Top reasons for the risk in plain language (for the customers explained).",
        ),
        ProfileColumn(
            "reason_code",
            ProfileType.STRING,
            ProfileGroup.RISK,
            "Reason code of the top reason (retain.contract.taxonomy.ReasonCode).",
        ),
        ProfileColumn("playbook", ProfileType.STRING, ProfileGroup.RISK, "Playbook recommended for the top reason."),
    )
)
"""The customer profile: every column of the 360, in display order."""
