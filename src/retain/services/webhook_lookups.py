"""What a platform webhook needs to know already: a subscription's newest period, an order's recorded row.

Both read the facts recorded so far: the lake (latest version of each key) and the inbox rows not yet flushed
into it, so an update that follows its creation within seconds still finds it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import ibis
import sqlalchemy as sa

from retain.contract.tables import ColumnType, TableName, table_spec
from retain.ingest.platforms.facts import iso_utc
from retain.state.tables import fact_inbox
from retain.workspace import Workspace

__all__ = ["known_order", "latest_period"]


def _normalised(table: TableName, row: dict[str, Any]) -> dict[str, Any]:
    """A row with its timestamps as the mappers write them (ISO 8601 UTC text), whatever store it came from."""
    spec = table_spec(str(table))
    out = {}
    for column in spec.columns:
        value = row.get(column.name)
        if column.type is ColumnType.TIMESTAMP and value is not None:
            at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            value = iso_utc(at if at.tzinfo else at.replace(tzinfo=UTC))
        out[column.name] = value
    return out


def _lake_rows(ws: Workspace, table: TableName, column: str, value: str) -> list[dict[str, Any]]:
    if not ws.lake.batch_files(table):
        return []
    facts = ws.table(table)
    return ws.backend.to_pyarrow(facts.filter(facts[column] == ibis.literal(value))).to_pylist()


def _inbox_rows(ws: Workspace, table: TableName, column: str, value: str) -> list[dict[str, Any]]:
    query = sa.select(fact_inbox.c.payload).where(
        fact_inbox.c.table_name == str(table), fact_inbox.c.flushed_at.is_(None)
    )
    with ws.connect() as connection:
        payloads = [json.loads(text) for text in connection.execute(query).scalars()]
    return [p for p in payloads if isinstance(p, dict) and str(p.get(column)) == value]


def _rows(ws: Workspace, table: TableName, column: str, value: str) -> list[dict[str, Any]]:
    found = _lake_rows(ws, table, column, value) + _inbox_rows(ws, table, column, value)
    return [_normalised(table, row) for row in found]


def latest_period(ws: Workspace, subscription_id: str) -> dict[str, Any] | None:
    """The subscription's period with the latest ``started_at`` (an inbox row wins over the lake's version)."""
    newest: dict[str, Any] | None = None
    for row in _rows(ws, TableName.SUBSCRIPTIONS, "subscription_id", subscription_id):
        if newest is None or row["started_at"] >= newest["started_at"]:
            newest = row
    return newest


def known_order(ws: Workspace, order_id: str) -> dict[str, Any] | None:
    """The order's recorded row (the inbox's when it has a newer one than the lake)."""
    rows = _rows(ws, TableName.ORDERS, "order_id", order_id)
    return rows[-1] if rows else None
