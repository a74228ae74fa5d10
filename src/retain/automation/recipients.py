"""Who a message goes to: contact details, time zones and profile rows of the customers a run acts on.

Contact details (``email``, ``name``) and the time zone (the ``timezone`` key of ``customers.attributes``) come
from the ``customers`` table as known at ``as_of`` — more recent than a snapshot — falling back on the current
profile; the rest of a template's ``customer`` comes from the current profile (every profile column, ``None``
where unknown). Reads only the customers asked for (a semi-join on the engine).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import pyarrow as pa

from retain.automation.entries import RunInputs
from retain.contract.profile import PROFILE
from retain.engine import to_arrow

__all__ = ["CONTACT_COLUMNS", "contacts", "customer_record", "profile_rows", "rows_by_customer"]

CONTACT_COLUMNS = ("customer_id", "email", "name", "attributes")
"""Columns of the ``customers`` table a message reads (``attributes`` holds the ``timezone``)."""


def rows_by_customer(
    backend: ibis.BaseBackend, table: ibis.Table | None, ids: set[str], columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The rows of ``table`` for the customers ``ids`` (those of ``columns`` it has), by customer id."""
    if table is None or not ids:
        return {}
    keys = ibis.memtable(pa.table({"customer_id": pa.array(sorted(ids), pa.string())}))
    picked = table.select(*[c for c in columns if c in table.columns]).semi_join(keys, "customer_id")
    return {row["customer_id"]: row for row in to_arrow(backend, picked).to_pylist()}


def _zone(attributes: Any) -> str | None:
    if not attributes:
        return None
    try:
        value = json.loads(attributes) if isinstance(attributes, str) else attributes
    except ValueError:
        return None
    zone = value.get("timezone") if isinstance(value, dict) else None
    return zone.strip() if isinstance(zone, str) and zone.strip() else None


def contacts(inputs: RunInputs, ids: set[str]) -> dict[str, dict[str, Any]]:
    """``email``, ``name`` and ``timezone`` (``None`` when unknown) of every customer of ``ids``."""
    trigger = inputs.trigger
    backend = trigger.facts.backend
    found = rows_by_customer(backend, trigger.table("customers"), ids, CONTACT_COLUMNS)
    profiled = rows_by_customer(backend, trigger.profile, ids - set(found), ("customer_id", "email", "name"))
    out = {}
    for customer in ids:
        row = found.get(customer) or profiled.get(customer) or {}
        out[customer] = {"email": row.get("email"), "name": row.get("name"), "timezone": _zone(row.get("attributes"))}
    return out


def profile_rows(inputs: RunInputs, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The current profile's rows of these customers (absent: the profile does not hold them, or there is none)."""
    return rows_by_customer(inputs.trigger.facts.backend, inputs.trigger.profile, ids, PROFILE.names)


def customer_record(profile: Mapping[str, Any] | None, contact: Mapping[str, Any], customer_id: str) -> dict[str, Any]:
    """A template's ``customer``: every profile column, with the freshest email and name."""
    row = {name: None for name in PROFILE.names} | dict(profile or {})
    row["customer_id"] = customer_id
    for key in ("email", "name"):
        row[key] = contact.get(key) or row.get(key)
    return row
