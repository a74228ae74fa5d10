"""The customer dimension: every customer any table mentions, with identity and the time they became known.

Facts may reference customers that no ``customers`` row describes yet (DESIGN.md section 3), so the dimension is
the union of the customer ids of all six canonical tables. ``created_at`` is the ``customers`` row's
``created_at`` when there is one, else the customer's *first seen* instant: the earliest timestamp of that
customer in any fact table (``ordered_at``, ``started_at``, ``occurred_at``, ``opened_at``, ``responded_at``).

The module also holds :func:`facts_at`, the point-in-time view of the six tables that every per-customer
summary (profile, timeline) reads, so that nothing recorded after ``as_of`` can leak into them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import ibis
import ibis.expr.datatypes as dt

from retain.analytics._inputs import require_columns
from retain.analytics.periods import as_instant
from retain.contract import TABLES, TableName
from retain.errors import InputError

__all__ = ["DIMENSION_COLUMNS", "check_tables", "customer_dimension", "facts_at", "instant_literal"]

DIMENSION_COLUMNS = ("customer_id", "created_at", "email", "name", "country", "acquisition_channel")
"""Columns of :func:`customer_dimension`, in order."""

_IDENTITY = ("email", "name", "country", "acquisition_channel")
_FACT_TABLES = (
    TableName.ORDERS,
    TableName.SUBSCRIPTIONS,
    TableName.EVENTS,
    TableName.TICKETS,
    TableName.FEEDBACK,
)
_TS = "timestamp('UTC')"
# Union members must have identical types, nullability included: cast every part to these.
_TS_TYPE = dt.Timestamp(timezone="UTC", scale=6, nullable=True)
_STRING = dt.String(nullable=True)


def instant_literal(value: date | datetime) -> ibis.Value:
    """``value`` (a date means midnight UTC) as a UTC timestamp literal, comparable with the tables' timestamps."""
    return ibis.literal(as_instant(value), _TS)


def customer_dimension(
    customers: ibis.Table | None = None,
    orders: ibis.Table | None = None,
    subscriptions: ibis.Table | None = None,
    events: ibis.Table | None = None,
    tickets: ibis.Table | None = None,
    feedback: ibis.Table | None = None,
) -> ibis.Table:
    """One row per customer id found in any of the six canonical tables.

    Parameters
    ----------
    customers, orders, subscriptions, events, tickets, feedback
        The canonical tables; ``None`` (or leaving one out) means the table is empty.

    Returns
    -------
    ibis.Table
        Unexecuted expression with the columns :data:`DIMENSION_COLUMNS`, sorted by ``customer_id``:
        ``created_at`` is the ``customers`` row's ``created_at`` when the customer has a row, else the earliest
        timestamp of that customer in any fact table (first seen); ``email``, ``name``, ``country`` and
        ``acquisition_channel`` come from the ``customers`` row (null without one).
    """
    given = {
        TableName.ORDERS: orders,
        TableName.SUBSCRIPTIONS: subscriptions,
        TableName.EVENTS: events,
        TableName.TICKETS: tickets,
        TableName.FEEDBACK: feedback,
    }
    parts = []
    if customers is not None:
        require_columns(customers, TableName.CUSTOMERS, ("customer_id", "created_at"))
        c = customers
        parts.append(
            c.select(
                customer_id=c.customer_id.cast(_STRING),
                listed_at=c.created_at.cast(_TS_TYPE),
                seen_at=ibis.null(_TS_TYPE),
                # The identity columns are optional: a bare (customer_id, created_at) table is fine.
                **{k: (c[k] if k in c.columns else ibis.null(_STRING)).cast(_STRING) for k in _IDENTITY},
            )
        )
    for name, table in given.items():
        if table is None:
            continue
        time_column = TABLES[name].time_column
        require_columns(table, name, ("customer_id", time_column))
        parts.append(
            table.select(
                customer_id=table.customer_id.cast(_STRING),
                listed_at=ibis.null(_TS_TYPE),
                seen_at=table[time_column].cast(_TS_TYPE),
                **{k: ibis.null(_STRING) for k in _IDENTITY},
            )
        )
    if not parts:
        raise InputError(
            "customer_dimension needs at least one table; got none. Pass e.g. customers=..., orders=... "
            "(Ibis tables with the canonical columns, see `retain schema`)."
        )
    u = ibis.union(*parts) if len(parts) > 1 else parts[0]
    g = u.group_by("customer_id").aggregate(
        listed_at=u.listed_at.min(),
        seen_at=u.seen_at.min(),
        # A key appears once in the customers table; max() only makes the choice deterministic if it does not.
        **{k: u[k].max() for k in _IDENTITY},
    )
    return g.select(
        "customer_id", created_at=g.listed_at.fill_null(g.seen_at), **{k: g[k] for k in _IDENTITY}
    ).order_by("customer_id")


def facts_at(tables: Mapping[str, ibis.Table], as_of: date | datetime) -> dict[TableName, ibis.Table | None]:
    """The six canonical tables as they were known at instant ``as_of``.

    Rows whose own time column (``created_at``, ``ordered_at``, ``started_at``, ``occurred_at``, ``opened_at``,
    ``responded_at``) is after ``as_of`` are dropped. Later changes to kept rows are undone: a subscription
    period ending after ``as_of`` is still running (``ended_at``, ``cancel_reason`` and ``churn_type`` become
    null), and a ticket resolved after ``as_of`` is still open (``resolved_at`` and ``satisfaction`` become null).

    Parameters
    ----------
    tables
        Canonical table name → Ibis table. Missing names map to ``None`` (an empty table).
    as_of
        The instant of the view (a date means midnight UTC).

    Raises
    ------
    InputError
        If a key of ``tables`` is not a canonical table name.
    """
    known = check_tables(tables)
    t = instant_literal(as_of)
    out: dict[TableName, ibis.Table | None] = {}
    for name in TableName:
        table = known.get(name)
        if table is None:
            out[name] = None
            continue
        time_column = TABLES[name].time_column
        require_columns(table, name, (time_column,))
        table = table.filter(table[time_column] <= t)
        masked = {}
        if name is TableName.SUBSCRIPTIONS and "ended_at" in table.columns:
            later = table.ended_at > t
            masked = {
                c: _null_if(later, table[c]) for c in ("ended_at", "cancel_reason", "churn_type") if c in table.columns
            }
        if name is TableName.TICKETS and "resolved_at" in table.columns:
            later = table.resolved_at > t
            masked = {c: _null_if(later, table[c]) for c in ("resolved_at", "satisfaction") if c in table.columns}
        if masked:
            table = table.mutate(**masked)
        out[name] = table
    return out


def _null_if(condition: ibis.Value, column: ibis.Value) -> ibis.Value:
    return ibis.ifelse(condition, ibis.null(column.type()), column)


def check_tables(tables: Mapping[str, ibis.Table]) -> dict[TableName, ibis.Table]:
    """``tables`` keyed by :class:`TableName`; an unknown key raises ``InputError`` listing the valid names."""
    if not isinstance(tables, Mapping):
        raise InputError(
            f"Expected a mapping of table name to Ibis table, got {type(tables).__name__}. "
            "Pass e.g. {'orders': orders, 'customers': customers}."
        )
    out = {}
    for key, table in tables.items():
        try:
            name = TableName(str(key))
        except ValueError:
            valid = ", ".join(TableName)
            raise InputError(f"Unknown table {key!r} in tables. Valid tables: {valid}.") from None
        if table is not None:
            out[name] = table
    return out
