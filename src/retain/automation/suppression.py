"""Repository of the suppression list: customers who must not be contacted, and why.

A customer is listed as ``unsubscribed`` (they used a signed unsubscribe link), ``bounced`` (their address does
not take mail) or ``erased`` (their data was deleted on request). The pressure rules read the list before every
step (:mod:`retain.automation.pressure`); each step stopped by it is recorded with the reason.

Listing a customer again keeps the first entry, except that ``erased`` replaces any other reason: it is the
strongest (nothing at all may be done for an erased customer, not even a task).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from retain.state.tables import ListedReason, suppression_list

__all__ = ["ListedReason", "listed", "suppress"]

_CHUNK = 500


def suppress(conn: sa.Connection, customer_id: str, reason: ListedReason | str, *, at: datetime) -> ListedReason:
    """List ``customer_id`` with ``reason`` (in the caller's transaction); returns the reason now on the list.

    Raises
    ------
    ValueError
        ``reason`` is not one of unsubscribed, bounced, erased.
    """
    reason = ListedReason(reason)
    t = suppression_list
    current = conn.execute(sa.select(t.c.reason).where(t.c.customer_id == customer_id)).scalar()
    if current is None:
        conn.execute(t.insert().values(customer_id=customer_id, reason=reason.value, at=at))
        return reason
    if reason is ListedReason.ERASED and current != ListedReason.ERASED.value:
        conn.execute(t.update().where(t.c.customer_id == customer_id).values(reason=reason.value, at=at))
        return reason
    return ListedReason(current)


def listed(conn: sa.Connection, customer_ids: Iterable[str] | None = None) -> dict[str, ListedReason]:
    """The listed customers among ``customer_ids`` (every listed customer when ``None``) and their reasons."""
    t = suppression_list
    query = sa.select(t.c.customer_id, t.c.reason)
    if customer_ids is None:
        return {c: ListedReason(r) for c, r in conn.execute(query)}
    ids = sorted(set(customer_ids))
    found: dict[str, ListedReason] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(query.where(t.c.customer_id.in_(ids[start : start + _CHUNK])))
        found.update({c: ListedReason(r) for c, r in rows})
    return found
