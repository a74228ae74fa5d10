"""RFM: recency, frequency and monetary value per customer, scored 1–5 and named by a documented score map.

**Inputs.** Orders with ``ordered_at <= as_of`` (and, with ``window_days``, ``ordered_at > as_of − window``).
A customer is scored when they have at least one ``completed`` order there.

* ``recency_days``: whole days from the customer's last completed order to ``as_of`` (floor of the elapsed
  seconds / 86 400, so an order 36 hours before ``as_of`` is 1 day old).
* ``frequency``: number of completed orders.
* ``monetary``: net revenue = sum of completed amounts − sum of ``|amount|`` of refunded orders (refunds are
  stored negative, but a source that stores them positive is handled the same way), rounded to 2 decimals.
  Canceled orders count nowhere.

**Scores (rank-based quintiles, ties share a score).** With ``n`` scored customers and, for a customer, ``k`` the
number of customers with a strictly *worse* value (larger ``recency_days``; smaller ``frequency``; smaller
``monetary``), the score is ``1 + floor(5 k / n)``. So the best fifth gets 5 and the worst fifth gets 1 when
values are distinct (10 customers: 2 per score), customers with equal values always get the same score (their
``k`` is the same), and the computation uses only ``rank()`` and integer arithmetic, so DuckDB and PySpark give
identical scores. ``rfm`` is the three digits, e.g. ``"545"``.

**Segment.** ``fm_score = floor((f_score + m_score + 1) / 2)`` (the F/M average, rounded half up), then the
R × FM grid below (:data:`SEGMENT_MAP`; rows R, columns FM):

====== ================ ================== ================== ================ ================
R \\ FM 1                2                  3                  4                5
====== ================ ================== ================== ================ ================
5      New              Potential loyalist Potential loyalist Champions        Champions
4      Promising        Potential loyalist Potential loyalist Loyal            Loyal
3      About to sleep   About to sleep     Need attention     Loyal            Loyal
2      Hibernating      Hibernating        At risk            At risk          Can't lose them
1      Lost             Hibernating        At risk            At risk          Can't lose them
====== ================ ================== ================== ================ ================
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import ibis

from retain.analytics._inputs import require_columns
from retain.analytics.periods import as_instant
from retain.contract import TableName
from retain.errors import InputError

__all__ = ["RFM_COLUMNS", "SEGMENT_MAP", "RfmSegment", "rfm_scores", "rfm_segment"]

RFM_COLUMNS = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "segment",
)
_MONEY_DIGITS = 2
_SECONDS_PER_DAY = 86_400


class RfmSegment(StrEnum):
    """Named RFM segments (values are the names shown to users)."""

    CHAMPIONS = "Champions"
    LOYAL = "Loyal"
    POTENTIAL_LOYALIST = "Potential loyalist"
    NEW = "New"
    PROMISING = "Promising"
    NEED_ATTENTION = "Need attention"
    ABOUT_TO_SLEEP = "About to sleep"
    AT_RISK = "At risk"
    CANT_LOSE_THEM = "Can't lose them"
    HIBERNATING = "Hibernating"
    LOST = "Lost"


def _grid() -> dict[tuple[int, int], RfmSegment]:
    s = RfmSegment
    rows = {  # R score: segments for FM = 1..5
        5: (s.NEW, s.POTENTIAL_LOYALIST, s.POTENTIAL_LOYALIST, s.CHAMPIONS, s.CHAMPIONS),
        4: (s.PROMISING, s.POTENTIAL_LOYALIST, s.POTENTIAL_LOYALIST, s.LOYAL, s.LOYAL),
        3: (s.ABOUT_TO_SLEEP, s.ABOUT_TO_SLEEP, s.NEED_ATTENTION, s.LOYAL, s.LOYAL),
        2: (s.HIBERNATING, s.HIBERNATING, s.AT_RISK, s.AT_RISK, s.CANT_LOSE_THEM),
        1: (s.LOST, s.HIBERNATING, s.AT_RISK, s.AT_RISK, s.CANT_LOSE_THEM),
    }
    return {(r, fm): name for r, names in rows.items() for fm, name in enumerate(names, start=1)}


SEGMENT_MAP: dict[tuple[int, int], RfmSegment] = _grid()
"""``(r_score, fm_score) -> segment`` for every pair in 1..5 × 1..5 (the table of the module docstring)."""


def rfm_segment(r_score: int, f_score: int, m_score: int) -> RfmSegment:
    """The segment of one score triple (the same rule :func:`rfm_scores` applies in the engine).

    Raises
    ------
    InputError
        If a score is not an integer from 1 to 5.
    """
    for name, value in (("r_score", r_score), ("f_score", f_score), ("m_score", m_score)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InputError(f"{name} must be an integer from 1 to 5, got {value!r}.")
    return SEGMENT_MAP[(r_score, (f_score + m_score + 1) // 2)]


def _quintile(worse_first: ibis.Value, n: ibis.Value) -> ibis.Value:
    # rank() is 0-based and gives ties the same value: k = number of rows strictly before (strictly worse).
    k = ibis.rank().over(order_by=worse_first)
    return ((k * 5) // n + 1).cast("int64")


def rfm_scores(
    orders: ibis.Table,
    *,
    as_of: date | datetime,
    window_days: int | None = None,
) -> ibis.Table:
    """RFM values, 1–5 scores and named segment of every customer with a completed order up to ``as_of``.

    Parameters
    ----------
    orders
        The canonical ``orders`` table (``customer_id``, ``ordered_at``, ``amount``, ``status``).
    as_of
        The instant the scores describe; later orders are ignored. A date means midnight UTC.
    window_days
        When given (> 0), only orders in ``(as_of − window_days, as_of]`` count; ``None`` uses all history.

    Returns
    -------
    ibis.Table
        Columns :data:`RFM_COLUMNS`, one row per customer, sorted by ``customer_id``. See the module docstring
        for the exact rules.

    Raises
    ------
    InputError
        If ``orders`` lacks the canonical columns or ``window_days`` is not a positive integer.
    """
    require_columns(orders, TableName.ORDERS, ("customer_id", "ordered_at", "amount", "status"))
    end = as_instant(as_of)
    o = orders.filter(orders.ordered_at <= end)
    if window_days is not None:
        if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days <= 0:
            raise InputError(f"window_days must be a positive whole number of days or None, got {window_days!r}.")
        o = o.filter(o.ordered_at > end - timedelta(days=window_days))
    o = o.filter(o.status.isin(["completed", "refunded"]))
    completed, refunded = o.status == "completed", o.status == "refunded"
    signed = ibis.ifelse(refunded, -o.amount.abs(), o.amount)
    g = o.group_by("customer_id").aggregate(
        last_at=o.ordered_at.max(where=completed),
        frequency=o.count(where=completed),
        monetary=signed.sum().round(_MONEY_DIGITS),
    )
    g = g.filter(g.frequency > 0)
    elapsed = ibis.literal(end).epoch_seconds() - g.last_at.epoch_seconds()
    g = g.mutate(recency_days=(elapsed // _SECONDS_PER_DAY).cast("int64"), frequency=g.frequency.cast("int64"))
    n = g.customer_id.count().over(ibis.window())  # every scored customer
    scored = g.mutate(
        r_score=_quintile(ibis.desc(g.recency_days), n),
        f_score=_quintile(g.frequency, n),
        m_score=_quintile(g.monetary, n),
    )
    fm = (scored.f_score + scored.m_score + 1) // 2
    key = scored.r_score * 10 + fm
    segment = key.cases(*[(r * 10 + f, str(name)) for (r, f), name in SEGMENT_MAP.items()])
    rfm = scored.r_score.cast("string") + scored.f_score.cast("string") + scored.m_score.cast("string")
    out = scored.mutate(rfm=rfm, segment=segment)
    return out.select(*RFM_COLUMNS).order_by("customer_id")
