"""Sentence templates of churn reasons: one feature, the customer's own numbers, in plain language.

A template is ``template(row, typical) -> str``: ``row`` holds the customer's feature values, ``typical`` the
population's typical value of each numeric feature (see :mod:`retain.models.churn.risky_side`). Where a number is
only a risk by comparison ("only 3 logins in the last 30 days"), the sentence names the typical value too
("(typical: 14)") so the reader can judge it. Templates phrase any value, safe ones included ("activity up 25 %");
whether a sentence is a *reason* is decided by the feature's risky side, not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from retain.models.churn.features import CORE_USAGE, DEFAULT_EVENT_TYPES

__all__ = [
    "EARLY_LIFE_DAYS",
    "KINDS",
    "NOUNS",
    "Template",
    "aov",
    "bad_orders",
    "billing",
    "change",
    "channel",
    "complaints_in",
    "count",
    "country",
    "csat",
    "days",
    "discount",
    "failed",
    "flag",
    "generic",
    "in_period",
    "last_order",
    "last_ticket",
    "money",
    "mrr",
    "mrr_change",
    "never_used",
    "nps",
    "nps_group",
    "num",
    "open_complaints",
    "orders",
    "orders_90d",
    "pauses",
    "percent",
    "periods",
    "plan",
    "renewal",
    "repeated",
    "revenue",
    "revenue_90d",
    "since",
    "slow_trend",
    "tenure",
    "ticket_rating",
    "tickets",
    "tickets_total",
    "times",
    "trend",
    "typical_note",
    "used",
    "value_of",
    "window",
]

Template = Callable[[Mapping[str, Any], Mapping[str, float]], str]

EARLY_LIFE_DAYS = 90
"""A customer younger than this many days is in early life (the first three months, when churn is highest)."""


# --------------------------------------------------------------------------- formatting helpers
def value_of(row: Mapping[str, Any], key: str) -> Any:
    """The row's value of ``key``; ``None`` when absent or null (None, NaN, pandas NA/NaT)."""
    v = row.get(key)
    try:
        return None if v is None or bool(pd.isna(v)) else v
    except (TypeError, ValueError):  # a list-like value: not null
        return v


def num(row: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    v = value_of(row, key)
    return default if v is None else float(v)


def count(n: float, singular: str, plural: str | None = None) -> str:
    k = round(float(n))
    return f"{k} {singular if k == 1 else plural or singular + 's'}"


def times(n: float) -> str:
    k = round(float(n))
    return {1: "once", 2: "twice"}.get(k, f"{k} times")


def days(d: float) -> str:
    return count(math.floor(d), "day")  # elapsed whole days: 9.8 days ago -> 9 days


def percent(share: float) -> str:
    return f"{round(share * 100)} %"


def money(x: float) -> str:
    return f"{x:,.2f}"


def _plain(x: float) -> str:
    """A typical value: whole when it is (nearly) whole, else one decimal."""
    return f"{round(x)}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def typical_note(typical: Mapping[str, float], key: str, shown: Callable[[float], str] = _plain) -> str:
    """``" (typical: 14)"`` for ``key``, or ``""`` when the population has no typical value for it."""
    v = typical.get(key)
    return "" if v is None else f" (typical: {shown(v)})"


def generic(feature: str) -> Template:
    """``"<feature> = <value>"``: the sentence of a feature the registry does not know."""

    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        v = value_of(row, feature)
        shown = "unknown" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
        return f"{feature.replace('_', ' ')} = {shown}"

    return text


# --------------------------------------------------------------------------- activity
NOUNS: dict[str, tuple[str, str]] = {
    "events": ("event", "events"),
    "login": ("login", "logins"),
    "feature_used": ("feature use", "feature uses"),
    "email_open": ("email open", "email opens"),
    "email_click": ("email click", "email clicks"),
    "page_view": ("page view", "page views"),
    "review": ("review", "reviews"),
    "referral": ("referral", "referrals"),
}
"""(singular, plural) nouns of the counted event types; ``events`` is every event except failed payments."""
KINDS = ("events", *DEFAULT_EVENT_TYPES)


def trend(kind: str) -> Template:
    singular, plural = NOUNS[kind]
    subject = "activity" if kind == "events" else plural

    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        ratio = value_of(row, f"{kind}_trend")
        if ratio is None:  # nothing in the previous 30 days to compare with
            recent = num(row, f"{kind}_30d")
            if recent == 0:
                return f"no {plural} in the last 60 days"
            return f"{count(recent, singular, plural)} in the last 30 days and none in the 30 before"
        if ratio == 0:
            return f"no {plural} in the last 30 days (down 100 % vs the previous 30 days)"
        if ratio < 1:
            return f"{subject} down {percent(1 - ratio)} vs the previous 30 days"
        if ratio > 1:
            return f"{subject} up {percent(ratio - 1)} vs the previous 30 days"
        return f"{subject} unchanged vs the previous 30 days"

    return text


def slow_trend(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    ratio = value_of(row, "events_trend_90d")
    if ratio is None:
        if num(row, "events_30d") == 0:
            return "no activity in the last 90 days"
        return "activity in the last 30 days and none in the 60 before"
    if ratio == 1:
        return "activity unchanged vs the average month before"
    direction = "down" if ratio < 1 else "up"
    return f"activity {direction} {percent(abs(1 - ratio))} vs the average month before"


def usage_trend(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    recent = sum(num(row, f"{kind}_30d") for kind in CORE_USAGE)
    before = sum(num(row, f"{kind}_90d") - num(row, f"{kind}_30d") for kind in CORE_USAGE) / 2
    if recent == 0:
        return f"no logins or feature use in the last 30 days (about {before:,.0f} a month before)"
    uses = "1 login or feature use" if recent == 1 else f"{recent:,.0f} logins and feature uses"
    return f"{uses} in the last 30 days, down from about {before:,.0f} a month before"


def window(kind: str, days_: int) -> Template:
    singular, plural = NOUNS[kind]
    key = f"{kind}_{days_}d"

    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        n = num(row, key)
        said = f"no {plural}" if n == 0 else f"only {count(n, singular, plural)}"
        return f"{said} in the last {days_} days{typical_note(typical, key)}"

    return text


def since(key: str, what: str, never: str) -> Template:
    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        d = value_of(row, key)
        return never if d is None else f"no {what} for {days(d)}{typical_note(typical, key, lambda v: days(v))}"

    return text


# --------------------------------------------------------------------------- payments, support, surveys
def failed(days_: int) -> Template:
    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        n = num(row, f"failed_payments_{days_}d")
        if n == 0:
            return f"no failed payment in the last {days_} days"
        return f"payment failed {times(n)} in the last {days_} days"

    return text


def open_complaints(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    n = num(row, "open_complaints")
    if n == 0:
        return complaints_in(90)(row, typical)
    age = value_of(row, "oldest_open_complaint_days")
    if n == 1:
        return "1 complaint unresolved" + ("" if age is None else f" for {days(age)}")
    return f"{count(n, 'complaint')} unresolved" + ("" if age is None else f", the oldest for {days(age)}")


def complaints_in(days_: int | None) -> Template:
    key = "complaints" if days_ is None else f"complaints_{days_}d"
    period = "in total" if days_ is None else f"in the last {days_} days"

    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        return f"{count(num(row, key), 'complaint')} {period}"

    return text


def tickets(key: str, period: str) -> Template:
    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        return f"{count(num(row, key), 'support ticket')} {period}"

    return text


def tickets_total(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"{count(num(row, 'tickets'), 'support ticket')} in total{typical_note(typical, 'tickets')}"


def repeated(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    n = num(row, "repeated_tickets_90d")
    return f"{count(n, 'repeat ticket')} on an already raised topic in the last 90 days"


def ticket_rating(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    v = value_of(row, "ticket_satisfaction")
    return "no support rating given" if v is None else f"support rated {float(v):.1f} of 5"


def last_ticket(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    d = value_of(row, "days_since_last_ticket")
    return "no support ticket yet" if d is None else f"last support ticket {days(d)} ago"


def nps_group(score: float) -> str:
    return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"


def nps(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    v = value_of(row, "nps_latest")
    return "no NPS answer" if v is None else f"NPS {round(float(v))} ({nps_group(float(v))})"


def csat(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    v = value_of(row, "csat_latest")
    return "no CSAT answer" if v is None else f"CSAT {round(float(v))} of 5"


def change(survey: str) -> Template:
    name = survey.upper()

    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        v = value_of(row, f"{survey}_change")
        if v is None:
            return f"only one {name} answer so far"
        if v == 0:
            return f"{name} unchanged since the previous answer"
        word = "fell" if v < 0 else "rose"
        latest = value_of(row, f"{survey}_latest")
        now = "" if latest is None else f" (now {round(float(latest))})"
        return f"{name} {word} by {count(abs(v), 'point')} since the previous answer{now}"

    return text


# --------------------------------------------------------------------------- subscription and orders
def renewal(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    d = value_of(row, "days_to_renewal")
    if d is None:
        return "no running subscription to renew"
    months = value_of(row, "billing_period_months")
    which = "renewal" if months is None else "annual renewal" if months == 12 else f"{round(months)}-month renewal"
    trend_ = value_of(row, "events_trend")
    falling = " and usage falling" if trend_ is not None and trend_ < 1 else ""
    return f"{which} in {count(math.ceil(d), 'day')}{falling}"


def in_period(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"{days(num(row, 'days_in_period'))} into the current billing period"


def billing(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    v = value_of(row, "billing_period_months")
    return "no billing period" if v is None else f"billed every {count(v, 'month')}"


def never_used(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    never = num(row, "features_never_used")
    core = never + num(row, "features_used")
    return f"{round(never)} of {count(core, 'core feature')} never used{typical_note(typical, 'features_never_used')}"


def used(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    n = num(row, "features_used")
    said = "no core feature" if n == 0 else f"only {count(n, 'core feature')}"
    return f"{said} used{typical_note(typical, 'features_used')}"


def discount(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"{percent(num(row, 'discount_share'))} of orders used a discount code"


def mrr_change(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    v = num(row, "mrr_change_90d")
    if v > 0:
        return f"MRR up {money(v)} over 90 days (now {money(num(row, 'mrr'))})"
    if v < 0:
        return f"MRR down {money(-v)} over 90 days (downgrade)"
    return "MRR unchanged over 90 days"


def mrr(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"MRR {money(num(row, 'mrr'))}"


def plan(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"on the {value_of(row, 'plan') or 'unknown'} plan"


def bad_orders(days_: int) -> Template:
    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        n = num(row, f"bad_orders_{days_}d")
        return f"{count(n, 'order')} refunded or canceled in the last {days_} days"

    return text


def last_order(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    d = value_of(row, "days_since_last_order")
    if d is None:
        return "no completed order yet"
    return f"no order for {days(d)}{typical_note(typical, 'days_since_last_order', lambda v: days(v))}"


def orders_90d(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    n = num(row, "orders_90d")
    said = "no order" if n == 0 else f"only {count(n, 'order')}"
    return f"{said} in the last 90 days{typical_note(typical, 'orders_90d')}"


def orders(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    n = num(row, "orders")
    said = "no completed order" if n == 0 else f"only {count(n, 'order')}"
    return f"{said} in total{typical_note(typical, 'orders')}"


def revenue(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"revenue of {money(num(row, 'revenue'))} to date"


def revenue_90d(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    v = num(row, "revenue_90d")
    note = typical_note(typical, "revenue_90d", money)
    if v == 0 and num(row, "orders_90d") == 0:
        return f"no order in the last 90 days{note.replace('typical', 'typical revenue')}"
    if v < 0:
        return f"net refunds of {money(-v)} in the last 90 days{note}"
    return f"net revenue of {money(v)} in the last 90 days{note}"  # refunds count against it


def aov(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"average order value {money(num(row, 'aov'))}"


def flag(key: str, yes: str, no: str) -> Template:
    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        return yes if value_of(row, key) else no

    return text


def pauses(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    n = num(row, "pauses")
    return f"paused {times(n)} before" if n else "never paused"


def periods(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return count(num(row, "subscription_periods"), "subscription period")


def tenure(key: str, what: str) -> Template:
    def text(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
        return f"{what} for {days(num(row, key))}"

    return text


def channel(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"acquired via {value_of(row, 'acquisition_channel') or 'an unknown channel'}"


def country(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    return f"based in {value_of(row, 'country') or 'an unknown country'}"


def orders_falling(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    now, before = num(row, "orders_90d"), num(row, "orders_prev_90d")
    return f"{count(now, 'order')} in the last 90 days against {count(before, 'order')} in the 90 days before"


def overdue(row: Mapping[str, Any], typical: Mapping[str, float]) -> str:
    gap, since = num(row, "typical_order_gap_days"), num(row, "days_since_last_order")
    return f"no order for {days(since)}, {since / gap:.1f}x the {days(gap)} the customer usually leaves between orders"
