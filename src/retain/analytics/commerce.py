"""Commerce metrics of a shop: revenue, orders, AOV, purchase frequency, repeat purchases, order gaps, CLV.

Definitions (DESIGN.md section 4), per period ``[start, end)`` (orders with ``start <= ordered_at < end``):

- ``revenue``: **net** revenue = amounts of ``completed`` orders minus the magnitude of ``refunded`` orders
  placed in the period (a refund lowers the revenue of the period it happens in, even when the sale was
  earlier). ``gross_revenue`` (sales only) and ``refunds`` (positive magnitude) are reported beside it, so
  ``revenue = gross_revenue − refunds``. ``canceled`` orders are ignored.
- ``orders``: completed orders; ``customers``: customers with at least one completed order in the period;
  ``repeat_customers``: customers with at least two.
- ``aov`` = ``revenue / orders`` (DESIGN.md: revenue / orders, so **refunds are netted**: a period with many
  refunds shows a lower AOV; ``gross_revenue / orders`` is the refund-free view). Null without orders.
- ``purchase_frequency`` = ``orders / customers``; ``repeat_purchase_rate`` = ``100 × repeat_customers /
  customers`` (percent). Null without customers.
- ``median_days_between_orders``: every completed order of a customer after their first one (over all history,
  not only the period) makes one *gap*: the time since their previous completed order, in days (to the second).
  A gap belongs to the period of its later order. The median is exact (window ranks; the mean of the two middle
  gaps for an even count). ``order_gaps`` counts the gaps.

Rounding (so DuckDB and PySpark agree exactly): money to cents (``revenue``, ``gross_revenue``, ``refunds``,
``aov`` — computed from the rounded revenue), day counts to 4 decimals. Ratios of counts are exact IEEE
divisions and not rounded.

For one number over a whole window pass a single period, e.g. ``[(date(2024, 1, 1), date(2025, 1, 1))]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import ibis

from retain.analytics._commerce_orders import MONEY_DIGITS, SECONDS_PER_DAY, money_sum, priced_orders
from retain.analytics._exact_median import exact_median
from retain.analytics._states import PERIOD_KEYS, left_join
from retain.analytics.periods import as_instant, periods_table, to_periods

__all__ = [
    "COMMERCE_COLUMNS",
    "CUSTOMER_STATS_COLUMNS",
    "commerce_summary",
    "customer_order_stats",
    "historical_clv",
    "order_gaps",
]

COMMERCE_COLUMNS = (
    "period_start",
    "period_end",
    "revenue",
    "gross_revenue",
    "refunds",
    "orders",
    "customers",
    "repeat_customers",
    "aov",
    "purchase_frequency",
    "repeat_purchase_rate",
    "order_gaps",
    "median_days_between_orders",
)
"""Columns of :func:`commerce_summary`, in order."""

CUSTOMER_STATS_COLUMNS = (
    "customer_id",
    "first_order_at",
    "last_order_at",
    "orders",
    "revenue",
    "refunds",
    "aov",
    "median_days_between_orders",
    "days_since_last_order",
)
"""Columns of :func:`customer_order_stats`, in order."""

DAY_DIGITS = 4
_UTC = "timestamp('UTC')"
_HUNDRED = ibis.literal(100.0, "float64")


def _ratio(part, whole):
    return part.cast("float64") / whole.cast("float64").nullif(0.0)


def order_gaps(orders: ibis.Table) -> ibis.Table:
    """Time between consecutive completed orders of each customer.

    Returns
    -------
    ibis.Table
        One row per completed order that has an earlier completed order of the same customer: ``customer_id``,
        ``ordered_at`` (the later order), ``gap_days`` (float64 days since the previous completed order, to the
        second; orders at the same instant are ordered by ``order_id`` and give a gap of 0). Unsorted.
    """
    sales = priced_orders(orders)
    sales = sales.filter(sales.is_sale)
    seconds = sales.ordered_at.epoch_seconds().cast("int64")
    previous = seconds.lag().over(group_by="customer_id", order_by=[sales.ordered_at, sales.order_id])
    g = sales.select("customer_id", "ordered_at", _gap=(seconds - previous))
    g = g.filter(g._gap.notnull())
    return g.select("customer_id", "ordered_at", gap_days=g._gap.cast("float64") / SECONDS_PER_DAY)


def commerce_summary(orders: ibis.Table, periods: Iterable[tuple[date | datetime, date | datetime]]) -> ibis.Table:
    """Revenue, orders, AOV, purchase frequency, repeat-purchase rate and order gaps per period.

    Parameters
    ----------
    orders
        The canonical ``orders`` table (needs ``order_id, customer_id, ordered_at, amount, status``).
    periods
        ``(start, end)`` intervals, e.g. from :func:`retain.analytics.period_grid`; one interval gives the
        figures of a whole window.

    Returns
    -------
    ibis.Table
        Unexecuted expression with the columns :data:`COMMERCE_COLUMNS`, one row per distinct period (also
        periods without orders: counts 0, money 0.0, ratios null), sorted by period. See the module docstring.
    """
    plist = to_periods(periods)
    p = periods_table(plist)
    o = priced_orders(orders)
    j = o.join(p, [o.ordered_at >= p.period_start, o.ordered_at < p.period_end])
    per_customer = j.group_by([*PERIOD_KEYS, "customer_id"]).aggregate(
        n_orders=j.count(where=j.is_sale),
        net=j.net.sum(),
        gross=j.net.sum(where=j.is_sale),
        refunded=j.net.sum(where=~j.is_sale),
    )
    c = per_customer
    agg = c.group_by(list(PERIOD_KEYS)).aggregate(
        revenue=money_sum(c.net),
        gross_revenue=money_sum(c.gross),
        refunds=money_sum(-c.refunded),
        orders=c.n_orders.sum(),
        customers=c.count(where=c.n_orders >= 1),
        repeat_customers=c.count(where=c.n_orders >= 2),
    )
    gaps = order_gaps(orders)
    gj = gaps.join(p, [gaps.ordered_at >= p.period_start, gaps.ordered_at < p.period_end])
    gap_counts = gj.group_by(list(PERIOD_KEYS)).aggregate(order_gaps=gj.count())
    medians = exact_median(gj, "gap_days", list(PERIOD_KEYS), name="median_days_between_orders")

    full = left_join(
        left_join(left_join(p, agg, list(PERIOD_KEYS)), gap_counts, list(PERIOD_KEYS)), medians, list(PERIOD_KEYS)
    )
    full = full.mutate(
        revenue=full.revenue.fill_null(0.0),
        gross_revenue=full.gross_revenue.fill_null(0.0),
        refunds=full.refunds.fill_null(0.0),
        orders=full.orders.fill_null(0).cast("int64"),
        customers=full.customers.fill_null(0),
        repeat_customers=full.repeat_customers.fill_null(0),
        order_gaps=full.order_gaps.fill_null(0),
        median_days_between_orders=full.median_days_between_orders.round(DAY_DIGITS),
    )
    full = full.mutate(
        aov=_ratio(full.revenue, full.orders).round(MONEY_DIGITS),
        purchase_frequency=_ratio(full.orders, full.customers),
        repeat_purchase_rate=_HUNDRED * _ratio(full.repeat_customers, full.customers),
    )
    return full.select(*COMMERCE_COLUMNS).order_by(list(PERIOD_KEYS))


def _known_orders(orders: ibis.Table, as_of: date | datetime) -> ibis.Table:
    return orders.filter(orders.ordered_at <= as_instant(as_of))


def customer_order_stats(orders: ibis.Table, as_of: date | datetime) -> ibis.Table:
    """Per customer, their order history up to ``as_of`` (orders with ``ordered_at <= as_of``).

    Parameters
    ----------
    orders
        The canonical ``orders`` table.
    as_of
        The instant of the snapshot; later orders are ignored (a date means midnight UTC).

    Returns
    -------
    ibis.Table
        Columns :data:`CUSTOMER_STATS_COLUMNS`, one row per customer with a completed or refunded order, sorted
        by ``customer_id``: ``first_order_at``/``last_order_at`` (completed orders; null with none),
        ``orders`` (completed), ``revenue`` — net revenue to date, i.e. the customer's **historical CLV** (sales
        minus refunds, cents) — ``refunds`` (magnitude), ``aov`` (``revenue / orders``, null without orders),
        ``median_days_between_orders`` (exact median of the customer's gaps, null with fewer than two orders) and
        ``days_since_last_order`` (days from the last completed order to ``as_of``, 4 decimals).
    """
    moment = as_instant(as_of)
    known = _known_orders(orders, moment)
    o = priced_orders(known)
    stats = o.group_by("customer_id").aggregate(
        # Cast: Spark reads Parquet timestamps without their time zone; the instants are UTC on every engine.
        first_order_at=o.ordered_at.min(where=o.is_sale).cast(_UTC),
        last_order_at=o.ordered_at.max(where=o.is_sale).cast(_UTC),
        orders=o.count(where=o.is_sale),
        revenue=money_sum(o.net),
        refunds=money_sum(-o.net, where=~o.is_sale),
    )
    medians = exact_median(order_gaps(known), "gap_days", ["customer_id"], name="median_days_between_orders")
    s = left_join(stats, medians, "customer_id")
    as_of_seconds = int(moment.timestamp())
    since = (ibis.literal(as_of_seconds, "int64") - s.last_order_at.epoch_seconds().cast("int64")).cast("float64")
    s = s.mutate(
        aov=_ratio(s.revenue, s.orders).round(MONEY_DIGITS),
        median_days_between_orders=s.median_days_between_orders.round(DAY_DIGITS),
        days_since_last_order=(since / SECONDS_PER_DAY).round(DAY_DIGITS),
    )
    return s.select(*CUSTOMER_STATS_COLUMNS).order_by("customer_id")


def historical_clv(orders: ibis.Table, as_of: date | datetime) -> ibis.Table:
    """Historical CLV over the customer base at ``as_of``: net revenue to date per customer, and its average.

    Returns
    -------
    ibis.Table
        One row: ``customers`` (with at least one completed order up to ``as_of``), ``revenue`` (their net
        revenue to date, cents) and ``average_clv`` (``revenue / customers``, cents; null without customers).
        Customers who only have refunds on record are not part of the base.
    """
    stats = customer_order_stats(orders, as_of)
    buyers = stats.filter(stats.orders >= 1)
    total = buyers.aggregate(customers=buyers.count(), revenue=money_sum(buyers.revenue))
    return total.mutate(average_clv=_ratio(total.revenue, total.customers).round(MONEY_DIGITS))
