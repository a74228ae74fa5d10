"""Training data for the churn model: point-in-time features and labels over monthly observation dates.

Observing every customer at several monthly as-of dates gives one customer several training rows (each with
its own features and label), and lets a backtest train on earlier dates and test on later ones. An observation
date is used only when its whole label window ``(as_of, as_of + horizon]`` lies inside the data, so no label is
a "did not churn yet" that the data simply cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

import ibis

from retain.analytics.periods import as_instant, period_grid
from retain.analytics.time_range import time_range
from retain.contract import TableName
from retain.errors import InputError
from retain.models.churn.features import DEFAULT_EVENT_TYPES, churn_features
from retain.models.churn.labels import (
    LABEL,
    BusinessModel,
    business_model,
    noncontractual_labels,
    subscription_labels,
)

__all__ = ["AS_OF", "build_dataset", "data_end", "monthly_dates", "observable_dates"]

AS_OF = "as_of"
"""Name of the observation-date column of a dataset."""
_UTC = "timestamp('UTC')"


def monthly_dates(start: date | datetime, end: date | datetime) -> list[datetime]:
    """First instants of the calendar months from the month of ``start`` up to ``end`` (inclusive).

    Examples
    --------
    >>> [d.date().isoformat() for d in monthly_dates(date(2024, 1, 15), date(2024, 4, 1))]
    ['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01']
    """
    last = as_instant(end)
    return [p.start for p in period_grid(start, last + timedelta(microseconds=1), "month")]


def data_end(tables: Mapping[str, ibis.Table]) -> datetime:
    """The latest timestamp in any of the tables: how far the data lets labels look.

    One query (:func:`retain.analytics.time_range.time_range`) on the tables' backend.

    Raises
    ------
    InputError
        If the tables hold no timestamps at all.
    """
    last = time_range(tables).to_pyarrow().to_pylist()[0]["last"] if tables else None
    if last is None:
        raise InputError("the tables hold no timestamps, so no label window can be observed; ingest facts first.")
    return as_instant(last)


def observable_dates(
    observation_dates: Iterable[date | datetime], *, horizon_days: int, end: date | datetime
) -> list[datetime]:
    """The observation dates whose label window ``(as_of, as_of + horizon_days]`` ends at or before ``end``."""
    stop = as_instant(end)
    return sorted({d for d in map(as_instant, observation_dates) if d + timedelta(days=horizon_days) <= stop})


def build_dataset(
    tables: Mapping[str, ibis.Table],
    *,
    observation_dates: Sequence[date | datetime],
    horizon_days: int = 90,
    model: BusinessModel | str = BusinessModel.SUBSCRIPTION,
    end: date | datetime | None = None,
    event_types: Sequence[str] = DEFAULT_EVENT_TYPES,
) -> ibis.Table:
    """Features and churn label of every labelled customer at every observation date.

    Parameters
    ----------
    tables : Mapping[str, ibis.Table]
        Canonical tables by name.
    observation_dates : sequence of date or datetime
        As-of instants, typically monthly (:func:`monthly_dates`). Dates whose label window is not fully inside
        the data are dropped.
    horizon_days : int, default 90
        Label window length.
    model : {"subscription", "commerce"}
        Subscription churn (customers active at the date) or non-contractual churn (customers who ordered
        before the date); see :mod:`retain.models.churn.labels`.
    end : date or datetime, optional
        Last instant the data covers; default :func:`data_end` of the tables.
    event_types : sequence of str
        Passed to :func:`~retain.models.churn.features.churn_features`.

    Returns
    -------
    ibis.Table
        One row per (customer, as-of): ``customer_id``, ``as_of`` (UTC timestamp), the feature columns and
        ``churned`` (int64 0/1).

    Raises
    ------
    InputError
        If no observation date has a fully observed label window, or the model is unknown.
    """
    kind = business_model(model)
    if not observation_dates:
        raise InputError("no observation dates given; pass e.g. monthly_dates(start, end).")
    stop = as_instant(end) if end is not None else data_end(tables)
    dates = observable_dates(observation_dates, horizon_days=horizon_days, end=stop)
    if not dates:
        first = min(map(as_instant, observation_dates))
        raise InputError(
            f"no observation date leaves a full {horizon_days}-day label window before the end of the data "
            f"({stop.isoformat()}); the earliest date given is {first.isoformat()}. Use dates at least "
            f"{horizon_days} days before the end of the data."
        )
    parts = [_one_date(tables, at, horizon_days, kind, event_types) for at in dates]
    rows = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    # A fixed row order, so that training on the same data gives the same model on every engine and run.
    return rows.order_by([AS_OF, "customer_id"])


def _labels(tables: Mapping[str, ibis.Table], at: datetime, horizon_days: int, kind: BusinessModel) -> ibis.Table:
    name = TableName.SUBSCRIPTIONS if kind is BusinessModel.SUBSCRIPTION else TableName.ORDERS
    table = tables.get(str(name))
    if table is None:
        raise InputError(f"{kind} churn labels need the {name} table, which was not given.")
    if kind is BusinessModel.SUBSCRIPTION:
        return subscription_labels(table, as_of=at, horizon_days=horizon_days)
    return noncontractual_labels(table, as_of=at, horizon_days=horizon_days)


def _one_date(
    tables: Mapping[str, ibis.Table],
    at: datetime,
    horizon_days: int,
    kind: BusinessModel,
    event_types: Sequence[str],
) -> ibis.Table:
    features = churn_features(tables, as_of=at, event_types=event_types)
    labels = _labels(tables, at, horizon_days, kind)
    labels = labels.select(label_customer=labels.customer_id, label=labels[LABEL])
    j = features.inner_join(labels, features.customer_id == labels.label_customer)
    names = [c for c in features.columns if c != "customer_id"]
    return j.select("customer_id", ibis.literal(at, _UTC).name(AS_OF), *names, j.label.name(LABEL))
