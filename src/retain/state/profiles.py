"""Repository of ``customer_profiles``: the customer 360 rows of the current marts snapshot, in the state DB.

``retain refresh`` upserts every profile row here so the API, the dashboard and the playbooks can look one
customer up (or filter by lifecycle, RFM segment, MRR...) without reading Parquet. The upsert is one
``INSERT ... ON CONFLICT (customer_id) DO UPDATE`` per batch, written with SQLAlchemy's dialect inserts so the
same code runs on SQLite and PostgreSQL; every batch of one refresh runs in one transaction, and rows of
customers that the snapshot no longer holds are deleted in that same transaction, so readers see either the
previous snapshot's profiles or the new ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from retain.errors import InputError
from retain.state.tables import customer_profiles

__all__ = ["PROFILE_FIELDS", "StoredProfile", "count_profiles", "get_profile", "list_profiles", "upsert_profiles"]

PROFILE_FIELDS: dict[str, tuple[str, ...]] = {
    # typed column: profile keys it is copied from (first present wins)
    "lifecycle": ("lifecycle", "lifecycle_state"),
    "rfm_segment": ("rfm_segment", "segment"),
    "mrr": ("mrr",),
    "total_revenue": ("total_revenue", "revenue"),
    "days_since_last_order": ("days_since_last_order",),
}
"""The typed columns of ``customer_profiles`` and the profile keys each is copied from."""

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_UPDATED = ("snapshot_id", "as_of", *PROFILE_FIELDS, "profile", "refreshed_at")


@dataclass(frozen=True)
class StoredProfile:
    """One row of ``customer_profiles``; ``profile`` is the full profile, decoded from JSON."""

    customer_id: str
    snapshot_id: str
    as_of: datetime
    lifecycle: str | None
    rfm_segment: str | None
    mrr: float | None
    total_revenue: float | None
    days_since_last_order: int | None
    profile: dict[str, Any]
    refreshed_at: datetime

    @classmethod
    def _from_row(cls, row: sa.Row) -> StoredProfile:
        values = row._asdict()
        values["profile"] = json.loads(values["profile"])
        return cls(**values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _typed(profile: Mapping[str, Any], column: str) -> Any:
    for key in PROFILE_FIELDS[column]:
        if key in profile and profile[key] is not None:
            value = _jsonable(profile[key])
            if column == "days_since_last_order":
                return int(value)
            if column in ("mrr", "total_revenue"):
                return float(value)
            return str(value)
    return None


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def upsert_profiles(
    engine: Engine,
    profiles: Iterable[Mapping[str, Any]],
    *,
    snapshot_id: str,
    as_of: datetime,
    refreshed_at: datetime,
    batch_size: int = 1000,
    prune: bool = True,
) -> int:
    """Insert or update one ``customer_profiles`` row per profile, in batches, in one transaction.

    Parameters
    ----------
    engine : Engine
        State database engine (SQLite or PostgreSQL).
    profiles : iterable of mapping
        Profile rows (e.g. ``pyarrow.Table.to_pylist()`` of the profiles mart); each needs a ``customer_id``.
        The typed columns are copied from the keys listed in :data:`PROFILE_FIELDS` when present; the whole
        mapping is stored as JSON (timestamps as ISO-8601 text, NaN as null).
    snapshot_id : str
        Marts snapshot the profiles come from.
    as_of : datetime
        Instant the profiles describe (timezone-aware).
    refreshed_at : datetime
        When the refresh ran (timezone-aware; from the workspace clock).
    batch_size : int
        Rows per ``INSERT ... ON CONFLICT`` statement.
    prune : bool
        Delete the rows of customers absent from ``profiles`` (written by an older snapshot), so the table
        holds exactly this snapshot.

    Returns
    -------
    int
        Number of profile rows written.

    Raises
    ------
    InputError
        A profile has no ``customer_id``, a customer appears twice, or ``batch_size`` < 1.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}.")
    insert = _INSERTS[engine.dialect.name]
    seen: set[str] = set()
    written = 0
    with engine.begin() as connection:
        for batch in _batches(profiles, batch_size):
            values = []
            for profile in batch:
                customer_id = profile.get("customer_id")
                if customer_id is None or customer_id == "":
                    raise InputError(f"A profile has no customer_id (keys: {sorted(profile)}); every row needs one.")
                customer_id = str(customer_id)
                if customer_id in seen:
                    raise InputError(f"Customer {customer_id!r} appears twice in the profiles; expected one row each.")
                seen.add(customer_id)
                values.append(
                    {
                        "customer_id": customer_id,
                        "snapshot_id": snapshot_id,
                        "as_of": as_of,
                        **{column: _typed(profile, column) for column in PROFILE_FIELDS},
                        "profile": json.dumps(_jsonable(dict(profile)), sort_keys=True),
                        "refreshed_at": refreshed_at,
                    }
                )
            statement = insert(customer_profiles).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=[customer_profiles.c.customer_id],
                set_={name: statement.excluded[name] for name in _UPDATED},
            )
            connection.execute(statement)
            written += len(values)
        if prune:
            connection.execute(customer_profiles.delete().where(customer_profiles.c.snapshot_id != snapshot_id))
    return written


def get_profile(engine: Engine, customer_id: str) -> StoredProfile | None:
    """The stored profile of one customer, or ``None`` when the last refresh did not hold them."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(customer_profiles).where(customer_profiles.c.customer_id == str(customer_id))
        ).first()
    return None if row is None else StoredProfile._from_row(row)


def list_profiles(
    engine: Engine,
    *,
    lifecycle: str | None = None,
    rfm_segment: str | None = None,
    limit: int = 100,
) -> list[StoredProfile]:
    """Stored profiles, optionally of one lifecycle state and/or RFM segment, by customer id."""
    query = sa.select(customer_profiles).order_by(customer_profiles.c.customer_id).limit(limit)
    if lifecycle is not None:
        query = query.where(customer_profiles.c.lifecycle == lifecycle)
    if rfm_segment is not None:
        query = query.where(customer_profiles.c.rfm_segment == rfm_segment)
    with engine.connect() as connection:
        return [StoredProfile._from_row(row) for row in connection.execute(query)]


def count_profiles(engine: Engine) -> int:
    """Number of stored profiles."""
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(customer_profiles)).scalar_one()
