"""The ``date`` trigger: a birthday, a signup anniversary or a subscription renewal falls ``days_before`` days ahead.

The target date is ``T = as_of.date() + days_before`` (UTC dates). The trigger fires on the day it holds, with
``fired_at`` midnight UTC of ``as_of``'s date and key ``<field>:<T>``.

- **birthday**: ``customers.birth_date`` has ``T``'s month and day and is in an earlier year. A 29 February
  birthday is celebrated on 28 February in years without one.
- **signup_anniversary**: ``created_at`` (UTC) has ``T``'s month and day and is in an earlier year (the signup
  day itself is no anniversary); 29 February as for birthdays.
- **renewal**: a non-paused subscription period running at ``as_of`` (no end known at ``as_of``) renews on
  ``T``: ``T = started_at + k × billing_period_months`` months for some ``k >= 1`` (monthly when the period is
  empty), where adding months keeps the day of month and clamps to the month's last day (31 January + 1 month =
  29 February 2024). The renewal is anchored on the running period's own ``started_at`` (a plan change starts a
  new period, and so a new anchor). Any renewal falling on ``T`` fires, also when ``days_before`` exceeds the
  billing period.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum

import ibis

from retain.automation.triggers import _params
from retain.automation.triggers._expr import empty_result, json_object, result
from retain.automation.triggers.activity import customers_known
from retain.automation.triggers.inputs import TriggerInputs
from retain.contract import TableName

__all__ = ["DateField", "date_trigger", "month_days"]


class DateField(StrEnum):
    """Which date the ``date`` trigger watches."""

    BIRTHDAY = "birthday"
    SIGNUP_ANNIVERSARY = "signup_anniversary"
    RENEWAL = "renewal"


def month_days(target: date) -> list[tuple[int, int]]:
    """The (month, day) pairs whose yearly date falls on ``target``: 29 February counts on 28 February in years
    without it."""
    pairs = [(target.month, target.day)]
    if (target.month, target.day) == (2, 28) and not calendar.isleap(target.year):
        pairs.append((2, 29))
    return pairs


def _on_month_day(value: ibis.Value, target: date) -> ibis.Value:
    matches = [(value.month() == month) & (value.day() == day) for month, day in month_days(target)]
    out = matches[0]
    for match in matches[1:]:
        out = out | match
    return out & (value.year() < target.year)


def _birthdays(inputs: TriggerInputs, target: date) -> ibis.Table | None:
    customers = inputs.table(TableName.CUSTOMERS)
    if customers is None or "birth_date" not in customers.columns:
        return None
    c = customers.filter(customers.birth_date.notnull() & _on_month_day(customers.birth_date, target))
    detail = json_object(date=target.isoformat(), birth_date=c.birth_date, age=target.year - c.birth_date.year())
    return c.mutate(_detail=detail)


def _anniversaries(inputs: TriggerInputs, target: date) -> ibis.Table | None:
    known = customers_known(inputs)
    if known is None:
        return None
    c = known.filter(_on_month_day(known.created_at, target))
    detail = json_object(date=target.isoformat(), created_at=c.created_at, years=target.year - c.created_at.year())
    return c.mutate(_detail=detail)


def _renewals(inputs: TriggerInputs, target: date) -> ibis.Table | None:
    subscriptions = inputs.table(TableName.SUBSCRIPTIONS)
    if subscriptions is None:
        return None
    s = subscriptions
    # facts_at leaves ended_at null for a period still running at as_of (even if it ends later).
    s = s.filter(s.ended_at.isnull() & (s.status != "paused"))
    months = s.billing_period_months.fill_null(1) if "billing_period_months" in s.columns else ibis.literal(1)
    start_month = s.started_at.year() * 12 + s.started_at.month() - 1
    elapsed = ibis.literal(target.year * 12 + target.month - 1) - start_month
    last_day = calendar.monthrange(target.year, target.month)[1]
    day = s.started_at.day()
    same_day = day >= target.day if target.day == last_day else day == target.day
    s = s.filter((elapsed > 0) & (elapsed % months == 0) & same_day)
    detail = json_object(
        date=target.isoformat(),
        subscription_id=s.subscription_id,
        plan=s.plan,
        mrr=s.mrr,
        billing_period_months=months.cast("int64"),
        started_at=s.started_at,
    )
    return s.mutate(_detail=detail)


_SOURCES = {
    DateField.BIRTHDAY: _birthdays,
    DateField.SIGNUP_ANNIVERSARY: _anniversaries,
    DateField.RENEWAL: _renewals,
}


def date_trigger(inputs: TriggerInputs, *, field: str, days_before: int = 0) -> ibis.Table:
    """Customers whose ``field`` date is ``as_of.date() + days_before``; key ``<field>:<that date>``."""
    which = _params.choice("date", "field", field, DateField)
    days_before = _params.days("date", "days_before", days_before, minimum=0)
    target = inputs.as_of.date() + timedelta(days=days_before)
    rows = _SOURCES[which](inputs, target)
    if rows is None:
        return empty_result()
    return result(
        rows,
        customer_id=rows.customer_id,
        trigger_key=ibis.literal(f"{which.value}:{target.isoformat()}"),
        fired_at=inputs.day_start,
        detail=rows["_detail"],
    )
