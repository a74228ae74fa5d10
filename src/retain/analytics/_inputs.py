"""Checks that an Ibis table given to a metric has the canonical columns the metric reads."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from retain.contract import ColumnType, TableName
from retain.contract.system_tables import SystemTableName, fact_spec
from retain.errors import InputError

__all__ = ["require_columns"]


def require_columns(table: ibis.Table, name: TableName | SystemTableName, columns: tuple[str, ...]) -> None:
    """Raise ``InputError`` unless ``table`` has ``columns`` of fact table ``name`` (canonical or system-written)
    with usable types.

    Timestamps must already be timestamps (not strings): metrics compare instants, and comparing strings would
    silently give wrong answers.
    """
    if not isinstance(table, ibis.Table):
        raise InputError(
            f"Expected the {name} table as an Ibis table, got {type(table).__name__}. "
            "Wrap data with ibis.memtable(...) or read it through a backend."
        )
    spec = fact_spec(str(name))
    schema = table.schema()
    missing = [c for c in columns if c not in schema]
    if missing:
        raise InputError(
            f"The {name} table lacks column(s) {', '.join(missing)}. "
            f"Expected the canonical columns {', '.join(spec.column_names)} (see `retain schema`)."
        )
    for col in columns:
        if spec.column(col).type is ColumnType.TIMESTAMP and not isinstance(schema[col], dt.Timestamp):
            raise InputError(
                f"Column {name}.{col} has type {schema[col]}, expected a UTC timestamp. "
                f"Cast it first, e.g. table.mutate({col}=table.{col}.cast(\"timestamp('UTC')\"))."
            )
