"""The order facts commerce metrics read: sales, refunds and the net amount of each order.

A ``completed`` order is a sale; a ``refunded`` order is money given back (the canonical tables record it with a
negative amount, but a positive magnitude is read the same way: it always reduces revenue); ``canceled`` orders
never happened and are ignored everywhere.
"""

from __future__ import annotations

import ibis

from retain.analytics._inputs import require_columns
from retain.contract import TableName

__all__ = ["COMPLETED", "MONEY_DIGITS", "REFUNDED", "SECONDS_PER_DAY", "money_sum", "priced_orders"]

COMPLETED = "completed"
REFUNDED = "refunded"
MONEY_DIGITS = 2
SECONDS_PER_DAY = 86_400
_COLUMNS = ("order_id", "customer_id", "ordered_at", "amount", "status")


def priced_orders(orders: ibis.Table) -> ibis.Table:
    """Sales and refunds with ``is_sale`` (bool) and ``net`` (the sale amount, or minus the refund magnitude).

    Returns columns ``order_id, customer_id, ordered_at, is_sale, net``.
    """
    require_columns(orders, TableName.ORDERS, _COLUMNS)
    o = orders.filter(orders.status.isin([COMPLETED, REFUNDED]))
    is_sale = o.status == COMPLETED
    net = ibis.ifelse(is_sale, o.amount, -o.amount.abs()).cast("float64")
    return o.select("order_id", "customer_id", "ordered_at", is_sale=is_sale, net=net)


def money_sum(value: ibis.FloatingValue, where: ibis.BooleanValue | None = None) -> ibis.FloatingValue:
    """Sum rounded to cents (0.0 when empty), so engines that add floats in another order agree exactly."""
    return value.sum(where=where).fill_null(0.0).round(MONEY_DIGITS)
