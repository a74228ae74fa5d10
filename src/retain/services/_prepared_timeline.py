"""The 360's timeline query, compiled once per snapshot and thread, then run with the customer id as a parameter.

Building and compiling the timeline's Ibis expression costs a few hundred milliseconds of Python per call — far
more than DuckDB takes to run it — and, under the server's thread pool, that Python time is serialised by the
GIL. The expression depends on the customer only through a literal, so it is compiled once with a sentinel id,
the sentinel's quoted literal becomes the parameter of a temporary table macro on the thread's DuckDB
connection, and each 360 runs ``SELECT * FROM <macro>($customer_id)`` (a short statement: parsing the whole
query each time would cost tens of milliseconds again).

The compiled SQL names the temporary views and memtables the thread's own DuckDB connection registered
(:attr:`retain.workspace.Workspace.backend` is one connection per thread), so it is kept on the backend object
itself (Ibis backends compare equal when they share a database, so they cannot key a shared cache); it keeps only
the latest snapshot. Other engines build the expression each time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import ibis

from retain.analytics.timeline import customer_timeline
from retain.facts import Facts

__all__ = ["timeline_rows"]

_SENTINEL = "retain_timeline_customer_3f1c9a"
_PARAMETER = "wanted_customer"
_NAMES = itertools.count()


@dataclass(frozen=True)
class _Prepared:
    snapshot_id: str
    macro: str
    expression: ibis.Table
    """Kept alive: the memtables it holds are dropped from the connection when it is garbage-collected."""


_ATTRIBUTE = "_retain_prepared_timeline"


def _prepare(facts: Facts, snapshot_id: str, as_of: Any) -> _Prepared | None:
    expression = customer_timeline(facts.tables, _SENTINEL, as_of=as_of)
    facts.backend.to_pyarrow(expression.limit(0))  # registers the expression's memtables on this connection
    sql = str(facts.backend.compile(expression))
    literal = f"'{_SENTINEL}'"
    if literal not in sql or _SENTINEL in sql.replace(literal, ""):
        return None  # the id is not a plain literal in this compilation: do not guess
    macro = f"retain_timeline_{next(_NAMES)}"
    body = sql.replace(literal, _PARAMETER)
    facts.backend.con.execute(f"CREATE OR REPLACE TEMP MACRO {macro}({_PARAMETER}) AS TABLE {body}")
    return _Prepared(snapshot_id, macro, expression)


def timeline_rows(facts: Facts, snapshot_id: str, customer_id: str, *, as_of: Any) -> list[dict[str, Any]]:
    """:func:`customer_timeline` of ``customer_id`` as rows, through the prepared query when the engine allows."""
    backend = facts.backend
    if backend.name != "duckdb":
        return backend.to_pyarrow(customer_timeline(facts.tables, customer_id, as_of=as_of)).to_pylist()
    prepared: _Prepared | None = getattr(backend, _ATTRIBUTE, None)
    if prepared is None or prepared.snapshot_id != snapshot_id:
        prepared = _prepare(facts, snapshot_id, as_of)
        if prepared is None:
            return backend.to_pyarrow(customer_timeline(facts.tables, customer_id, as_of=as_of)).to_pylist()
        setattr(backend, _ATTRIBUTE, prepared)
    schema = prepared.expression.schema().to_pyarrow()
    result = backend.con.sql(f"SELECT * FROM {prepared.macro}($c)", params={"c": customer_id}).to_arrow_table()
    return result.cast(schema).to_pylist()
