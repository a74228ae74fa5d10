"""Repository of ``customer_profiles``: the current snapshot's customer 360 rows, typed, in the state database.

The API, the dashboard and the playbooks look a customer up (or filter by lifecycle, RFM segment, risk...) here
without reading Parquet. :func:`write_profiles` brings the table to exactly one snapshot's profiles inside the
caller's transaction — the same transaction that switches the workspace's current snapshot, so readers see the
old snapshot's rows or the new one's, never a mix.

How it stays fast at a million customers (a refresh used to spend minutes here, serialising each row to JSON and
upserting it): every row carries a hash of its values; a refresh reads the stored ``(customer_id, row_hash)``
pairs, and writes only the rows whose hash changed (and deletes the customers that left). The writes are bulk
statements fed straight from Arrow columns: ``executemany`` of plain tuples on SQLite (timestamps as integer
microseconds), ``COPY`` of Arrow-written CSV into a temporary table and one ``INSERT … ON CONFLICT`` on
PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import sqlalchemy as sa

from retain.contract.profile import PROFILE, ProfileType
from retain.errors import InputError
from retain.state.tables import customer_profiles

__all__ = [
    "PROFILE_WRITE_COLUMNS",
    "ProfileWrite",
    "StoredProfile",
    "count_profiles",
    "get_profile",
    "list_profiles",
    "profile_row_hashes",
    "write_profiles",
]

SEGMENTS = "segments"
PROFILE_WRITE_COLUMNS: tuple[str, ...] = (*PROFILE.names, SEGMENTS)
"""Columns of the Arrow table :func:`write_profiles` takes: every profile column, then ``segments`` (JSON text)."""

_STORED = (*PROFILE_WRITE_COLUMNS, "row_hash", "snapshot_id")
_TIMESTAMPS = {c.name for c in PROFILE if c.type is ProfileType.TIMESTAMP}


@dataclass(frozen=True)
class StoredProfile:
    """One stored profile: the profile columns by name, the user segments and the snapshot that wrote it."""

    customer_id: str
    profile: dict[str, Any]
    segments: list[str]
    snapshot_id: str

    @classmethod
    def _from_row(cls, row: sa.Row) -> StoredProfile:
        values = row._asdict()
        segments = json.loads(values.pop(SEGMENTS) or "[]")
        snapshot_id = values.pop("snapshot_id")
        values.pop("row_hash")
        return cls(values["customer_id"], {name: values[name] for name in PROFILE.names}, segments, snapshot_id)


@dataclass(frozen=True)
class ProfileWrite:
    """What :func:`write_profiles` changed."""

    written: int
    """Rows inserted or updated (new customers and customers whose profile changed)."""
    deleted: int
    """Rows of customers the snapshot no longer holds."""
    unchanged: int


def profile_row_hashes(table: pa.Table) -> np.ndarray:
    """A 64-bit hash of every row's values (signed, as the database stores it); equal rows hash equally."""
    frame = table.select(list(PROFILE_WRITE_COLUMNS)).to_pandas()
    return pd.util.hash_pandas_object(frame, index=False).to_numpy().view(np.int64)


def _check(table: pa.Table) -> None:
    missing = [c for c in PROFILE_WRITE_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"the profiles to write lack column(s) {missing}; expected {list(PROFILE_WRITE_COLUMNS)}.")
    ids = table["customer_id"]
    if ids.null_count or pc.any(pc.equal(ids, "")).as_py():
        raise InputError("A profile has no customer_id; every row needs one.")
    if pc.count_distinct(ids).as_py() != table.num_rows:
        counts = pc.value_counts(ids)
        repeated = [v["values"] for v in counts.to_pylist() if v["counts"] > 1][:3]
        raise InputError(f"Customer(s) {repeated} appear twice in the profiles; expected one row each.")


def _without_nan(table: pa.Table) -> pa.Table:
    """NaN floats become null: SQLite would store NULL and PostgreSQL 'NaN', and a profile must read the same."""
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            column = table.column(i)
            table = table.set_column(i, field, pc.if_else(pc.is_nan(column), pa.scalar(None, field.type), column))
    return table


def _stored_hashes(connection: sa.Connection) -> pd.Series:
    rows = connection.execute(sa.select(customer_profiles.c.customer_id, customer_profiles.c.row_hash)).all()
    if not rows:
        return pd.Series([], dtype="int64", index=pd.Index([], dtype="object"))
    ids, hashes = zip(*rows, strict=True)
    return pd.Series(np.asarray(hashes, dtype=np.int64), index=pd.Index(ids, dtype="object"))


def _python_columns(table: pa.Table) -> list[list[Any]]:
    """Each column as a Python list ready for SQLite: timestamps as integer microseconds since 1970 UTC."""
    out = []
    for name in _STORED:
        column = table[name]
        if name in _TIMESTAMPS:
            column = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        out.append(column.to_pylist())
    return out


def _write_sqlite(connection: sa.Connection, table: pa.Table) -> None:
    names = ", ".join(_STORED)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _STORED if c != "customer_id")
    sql = (
        f"INSERT INTO customer_profiles ({names}) VALUES ({', '.join('?' * len(_STORED))}) "
        f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
    )
    connection.exec_driver_sql(sql, list(zip(*_python_columns(table), strict=True)))


def _write_postgres(connection: sa.Connection, table: pa.Table) -> None:
    names = ", ".join(_STORED)
    cursor = connection.connection.dbapi_connection.cursor()  # the same transaction as ``connection``
    try:
        cursor.execute("CREATE TEMPORARY TABLE _profiles_in (LIKE customer_profiles) ON COMMIT DROP")
        buffer = io.BytesIO()
        pv.write_csv(table.select(list(_STORED)), buffer, pv.WriteOptions(include_header=False))
        with cursor.copy(f"COPY _profiles_in ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        updates = ", ".join(f"{c} = excluded.{c}" for c in _STORED if c != "customer_id")
        cursor.execute(
            f"INSERT INTO customer_profiles ({names}) SELECT {names} FROM _profiles_in "
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )
        cursor.execute("DROP TABLE _profiles_in")
    finally:
        cursor.close()


def _delete(connection: sa.Connection, customer_ids: Sequence[str]) -> None:
    if not customer_ids:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("DELETE FROM customer_profiles WHERE customer_id = ANY(:ids)"), {"ids": list(customer_ids)}
        )
    else:
        connection.exec_driver_sql("DELETE FROM customer_profiles WHERE customer_id = ?", [(i,) for i in customer_ids])


def write_profiles(connection: sa.Connection, table: pa.Table, *, snapshot_id: str) -> ProfileWrite:
    """Make ``customer_profiles`` hold exactly the profiles of ``table``, writing only what changed.

    Parameters
    ----------
    connection
        An open connection inside the caller's transaction (nothing is committed here).
    table
        One row per customer with the columns :data:`PROFILE_WRITE_COLUMNS` (the profiles mart of a snapshot
        and the customers' user segments as JSON text).
    snapshot_id
        The marts snapshot the profiles come from (recorded on the rows it writes).

    Returns
    -------
    ProfileWrite

    Raises
    ------
    InputError
        A column is missing, a row has no ``customer_id`` or a customer appears twice.
    """
    _check(table)
    table = _without_nan(table.select(list(PROFILE_WRITE_COLUMNS)))
    hashes = profile_row_hashes(table)
    stored = _stored_hashes(connection)
    ids = table["customer_id"].to_pylist()
    previous = stored.astype("Int64").reindex(pd.Index(ids, dtype="object"))  # <NA>: a new customer
    same = previous.notna().to_numpy() & (previous.fillna(0).to_numpy(dtype=np.int64) == hashes)
    changed = table.filter(pa.array(~same))
    changed = changed.append_column("row_hash", pa.array(hashes[~same], pa.int64()))
    changed = changed.append_column("snapshot_id", pa.repeat(pa.scalar(snapshot_id), changed.num_rows))
    gone = sorted(set(stored.index) - set(ids))
    _delete(connection, gone)
    if changed.num_rows:
        (_write_postgres if connection.dialect.name == "postgresql" else _write_sqlite)(connection, changed)
    return ProfileWrite(written=changed.num_rows, deleted=len(gone), unchanged=int(same.sum()))


def get_profile(connection: sa.Connection, customer_id: str) -> StoredProfile | None:
    """The stored profile of one customer, or ``None`` when the current snapshot does not hold them."""
    row = connection.execute(
        sa.select(customer_profiles).where(customer_profiles.c.customer_id == str(customer_id))
    ).first()
    return None if row is None else StoredProfile._from_row(row)


def list_profiles(
    connection: sa.Connection,
    *,
    lifecycle_state: str | None = None,
    rfm_segment: str | None = None,
    limit: int = 100,
) -> list[StoredProfile]:
    """Stored profiles, optionally of one lifecycle state and/or RFM segment, by customer id."""
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}.")
    query = sa.select(customer_profiles).order_by(customer_profiles.c.customer_id).limit(limit)
    if lifecycle_state is not None:
        query = query.where(customer_profiles.c.lifecycle_state == lifecycle_state)
    if rfm_segment is not None:
        query = query.where(customer_profiles.c.rfm_segment == rfm_segment)
    return [StoredProfile._from_row(row) for row in connection.execute(query)]


def count_profiles(connection: sa.Connection) -> int:
    """Number of stored profiles."""
    return connection.execute(sa.select(sa.func.count()).select_from(customer_profiles)).scalar_one()
