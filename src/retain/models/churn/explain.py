"""Churn reasons: the top drivers of each customer's risk, in plain language, with a code and a playbook.

``explain(model, X)`` reads the TreeSHAP contributions of :meth:`ChurnModel.contributions` (log-odds, one column
per feature) and groups the features into **drivers** (usage decline, inactivity, failed payments, complaints...)
through the registry :data:`REASONS`. A driver's impact is the sum of its features' contributions (related
features such as ``failed_payments_30d`` and ``failed_payments_90d`` share the credit between them); the drivers
with the largest *positive* impact — those raising the risk — are the reasons. Each reason is phrased by the
template of the driver's strongest feature, filled with the customer's own numbers ("logins down 62 % vs the
previous 30 days", "payment failed twice in the last 90 days"), and carries the driver's :class:`ReasonCode`
(:mod:`retain.contract.taxonomy`) and the recommended
:class:`Playbook`.

Features the registry does not know (e.g. columns of a snapshot table) form the ``other`` driver and are shown
as ``"<feature> = <value>"``.

Cost: nearly all the time is LightGBM's TreeSHAP inside ``model.contributions`` (measured: 0.7 ms of CPU per
customer and booster for 150 trees on 10 features; more for bigger models); explain the at-risk shortlist rather
than every customer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from retain.contract.taxonomy import Playbook, ReasonCode
from retain.errors import InputError
from retain.models.churn.features import DEFAULT_EVENT_TYPES, WINDOWS_DAYS

__all__ = ["REASONS", "Driver", "Playbook", "Reason", "ReasonCode", "ReasonRule", "driver_of", "explain", "reason_for"]


class Driver(StrEnum):
    """A group of related features that together form one reason."""

    USAGE_DECLINE = "usage_decline"
    INACTIVITY = "inactivity"
    ORDERING = "ordering"
    FAILED_PAYMENTS = "failed_payments"
    COMPLAINTS = "complaints"
    SUPPORT_TICKETS = "support_tickets"
    ORDER_PROBLEMS = "order_problems"
    LOW_SATISFACTION = "low_satisfaction"
    RENEWAL = "renewal"
    LOW_ADOPTION = "low_adoption"
    PRICE = "price"
    PAUSED = "paused"
    NEW_CUSTOMER = "new_customer"
    PROFILE = "profile"
    OTHER = "other"


Template = Callable[[Mapping[str, Any]], str]


# --------------------------------------------------------------------------- formatting helpers
def _value(row: Mapping[str, Any], key: str) -> Any:
    """The row's value of ``key``; ``None`` when absent or null (None, NaN, pandas NA/NaT)."""
    v = row.get(key)
    try:
        return None if v is None or bool(pd.isna(v)) else v
    except (TypeError, ValueError):  # a list-like value: not null
        return v


def _num(row: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    v = _value(row, key)
    return default if v is None else float(v)


def _count(n: float, singular: str, plural: str | None = None) -> str:
    k = round(float(n))
    return f"{k} {singular if k == 1 else plural or singular + 's'}"


def _times(n: float) -> str:
    k = round(float(n))
    return {1: "once", 2: "twice"}.get(k, f"{k} times")


def _days(d: float) -> str:
    return _count(math.floor(d), "day")  # elapsed whole days: 9.8 days ago -> 9 days


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _money(x: float) -> str:
    return f"{x:,.2f}"


def _generic(feature: str) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        v = _value(row, feature)
        shown = "unknown" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
        return f"{feature.replace('_', ' ')} = {shown}"

    return text


# --------------------------------------------------------------------------- templates per feature
#: (singular, plural) nouns of the counted event types; ``events`` is every event except failed payments.
_NOUNS: dict[str, tuple[str, str]] = {
    "events": ("event", "events"),
    "login": ("login", "logins"),
    "feature_used": ("feature use", "feature uses"),
    "email_open": ("email open", "email opens"),
    "email_click": ("email click", "email clicks"),
    "page_view": ("page view", "page views"),
    "review": ("review", "reviews"),
    "referral": ("referral", "referrals"),
}
_KINDS = ("events", *DEFAULT_EVENT_TYPES)


def _trend(kind: str) -> Template:
    singular, plural = _NOUNS[kind]
    subject = "activity" if kind == "events" else plural

    def text(row: Mapping[str, Any]) -> str:
        ratio = _value(row, f"{kind}_trend")
        if ratio is None:  # nothing in the previous 30 days to compare with
            recent = _num(row, f"{kind}_30d")
            if recent == 0:
                return f"no {plural} in the last 60 days"
            return f"{_count(recent, singular, plural)} in the last 30 days and none in the 30 before"
        if ratio < 1:
            return f"{subject} down {_percent(1 - ratio)} vs the previous 30 days"
        if ratio > 1:
            return f"{subject} up {_percent(ratio - 1)} vs the previous 30 days"
        return f"{subject} unchanged vs the previous 30 days"

    return text


def _slow_trend(row: Mapping[str, Any]) -> str:
    ratio = _value(row, "events_trend_90d")
    if ratio is None:
        return "no activity in the 60 days before the last 30"
    direction = "down" if ratio < 1 else "up"
    return f"activity {direction} {_percent(abs(1 - ratio))} vs the average month before"


def _window(kind: str, window: int) -> Template:
    singular, plural = _NOUNS[kind]

    def text(row: Mapping[str, Any]) -> str:
        n = _num(row, f"{kind}_{window}d")
        if n == 0:
            return f"no {plural} in the last {window} days"
        return f"only {_count(n, singular, plural)} in the last {window} days"

    return text


def _since(key: str, what: str, never: str) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        d = _value(row, key)
        return never if d is None else f"no {what} for {_days(d)}"

    return text


def _failed(window: int) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        n = _num(row, f"failed_payments_{window}d")
        if n == 0:
            return f"no failed payment in the last {window} days"
        return f"payment failed {_times(n)} in the last {window} days"

    return text


def _open_complaints(row: Mapping[str, Any]) -> str:
    n = _num(row, "open_complaints")
    if n == 0:
        return _complaints_in(90)(row)
    age = _value(row, "oldest_open_complaint_days")
    if n == 1:
        return "1 complaint unresolved" + ("" if age is None else f" for {_days(age)}")
    return f"{_count(n, 'complaint')} unresolved" + ("" if age is None else f", the oldest for {_days(age)}")


def _complaints_in(window: int | None) -> Template:
    key = "complaints" if window is None else f"complaints_{window}d"
    period = "in total" if window is None else f"in the last {window} days"

    def text(row: Mapping[str, Any]) -> str:
        return f"{_count(_num(row, key), 'complaint')} {period}"

    return text


def _tickets(key: str, period: str) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        return f"{_count(_num(row, key), 'support ticket')} {period}"

    return text


def _repeated(row: Mapping[str, Any]) -> str:
    n = _num(row, "repeated_tickets_90d")
    return f"{_count(n, 'repeat ticket')} on an already raised topic in the last 90 days"


def _ticket_rating(row: Mapping[str, Any]) -> str:
    v = _value(row, "ticket_satisfaction")
    return "no support rating given" if v is None else f"support rated {float(v):.1f} of 5"


def _nps(row: Mapping[str, Any]) -> str:
    v = _value(row, "nps_latest")
    if v is None:
        return "no NPS answer"
    group = "detractor" if v <= 6 else "passive" if v <= 8 else "promoter"
    return f"NPS {round(float(v))} ({group})"


def _csat(row: Mapping[str, Any]) -> str:
    v = _value(row, "csat_latest")
    return "no CSAT answer" if v is None else f"CSAT {round(float(v))} of 5"


def _change(survey: str, unit: str) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        v = _value(row, f"{survey}_change")
        if v is None:
            return f"only one {survey.upper()} answer so far"
        if v == 0:
            return f"{survey.upper()} unchanged since the previous answer"
        word = "fell" if v < 0 else "rose"
        return f"{survey.upper()} {word} by {_count(abs(v), unit)} since the previous answer"

    return text


def _renewal(row: Mapping[str, Any]) -> str:
    d = _value(row, "days_to_renewal")
    if d is None:
        return "no running subscription to renew"
    trend = _value(row, "events_trend")
    falling = " and usage falling" if trend is not None and trend < 1 else ""
    return f"renewal in {_count(math.ceil(d), 'day')}{falling}"


def _in_period(row: Mapping[str, Any]) -> str:
    return f"{_days(_num(row, 'days_in_period'))} into the current billing period"


def _billing(row: Mapping[str, Any]) -> str:
    v = _value(row, "billing_period_months")
    return "no billing period" if v is None else f"billed every {_count(v, 'month')}"


def _never_used(row: Mapping[str, Any]) -> str:
    never = _num(row, "features_never_used")
    core = never + _num(row, "features_used")
    return f"{round(never)} of {_count(core, 'core feature')} never used"


def _used(row: Mapping[str, Any]) -> str:
    return f"only {_count(_num(row, 'features_used'), 'core feature')} used"


def _discount(row: Mapping[str, Any]) -> str:
    return f"{_percent(_num(row, 'discount_share'))} of orders used a discount code"


def _mrr_change(row: Mapping[str, Any]) -> str:
    v = _num(row, "mrr_change_90d")
    if v < 0:
        return f"MRR down {_money(-v)} over 90 days (downgrade)"
    if v > 0:
        return f"MRR up {_money(v)} over 90 days"
    return "MRR unchanged over 90 days"


def _bad_orders(window: int) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        n = _num(row, f"bad_orders_{window}d")
        return f"{_count(n, 'order')} refunded or canceled in the last {window} days"

    return text


def _last_order(row: Mapping[str, Any]) -> str:
    d = _value(row, "days_since_last_order")
    return "no completed order yet" if d is None else f"no order for {_days(d)}"


def _orders_90d(row: Mapping[str, Any]) -> str:
    n = _num(row, "orders_90d")
    return "no order in the last 90 days" if n == 0 else f"only {_count(n, 'order')} in the last 90 days"


def _flag(key: str, yes: str, no: str) -> Template:
    def text(row: Mapping[str, Any]) -> str:
        return yes if _value(row, key) else no

    return text


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class ReasonRule:
    """One driver: its features (each with a sentence template), reason code and recommended playbook."""

    code: ReasonCode
    playbook: Playbook
    templates: Mapping[str, Template]


_ACTIVITY_TREND = {f"{kind}_trend": _trend(kind) for kind in _KINDS} | {"events_trend_90d": _slow_trend}
_ACTIVITY_WINDOWS = {f"{kind}_{w}d": _window(kind, w) for kind in _KINDS for w in WINDOWS_DAYS}

REASONS: dict[Driver, ReasonRule] = {
    Driver.USAGE_DECLINE: ReasonRule(ReasonCode.DISENGAGED, Playbook.RE_ENGAGEMENT, _ACTIVITY_TREND),
    Driver.INACTIVITY: ReasonRule(
        ReasonCode.DISENGAGED,
        Playbook.RE_ENGAGEMENT,
        {
            "days_since_last_login": _since("days_since_last_login", "login", "never logged in"),
            "days_since_last_event": _since("days_since_last_event", "activity", "no activity recorded"),
            **_ACTIVITY_WINDOWS,
        },
    ),
    Driver.ORDERING: ReasonRule(
        ReasonCode.DISENGAGED,
        Playbook.WIN_BACK,
        {
            "days_since_last_order": _last_order,
            "orders_90d": _orders_90d,
            "orders_prev_90d": lambda r: (
                f"{_count(_num(r, 'orders_prev_90d'), 'order')} in the 90 days before the last 90"
            ),
            "typical_order_gap_days": lambda r: (
                "only one order so far"
                if _value(r, "typical_order_gap_days") is None
                else f"orders every {_days(_num(r, 'typical_order_gap_days'))} on average"
            ),
            "orders": lambda r: f"{_count(_num(r, 'orders'), 'order')} in total",
            "revenue": lambda r: f"revenue of {_money(_num(r, 'revenue'))} to date",
            "revenue_90d": lambda r: f"revenue of {_money(_num(r, 'revenue_90d'))} in the last 90 days",
            "aov": lambda r: f"average order value {_money(_num(r, 'aov'))}",
        },
    ),
    Driver.FAILED_PAYMENTS: ReasonRule(
        ReasonCode.PAYMENT_FAILED,
        Playbook.DUNNING,
        {"failed_payments_30d": _failed(30), "failed_payments_90d": _failed(90)},
    ),
    Driver.COMPLAINTS: ReasonRule(
        ReasonCode.POOR_SERVICE,
        Playbook.SERVICE_RECOVERY,
        {
            "open_complaints": _open_complaints,
            "oldest_open_complaint_days": _open_complaints,
            "complaints": _complaints_in(None),
            "complaints_30d": _complaints_in(30),
            "complaints_90d": _complaints_in(90),
        },
    ),
    Driver.SUPPORT_TICKETS: ReasonRule(
        ReasonCode.POOR_SERVICE,
        Playbook.SERVICE_RECOVERY,
        {
            "open_tickets": _tickets("open_tickets", "open"),
            "tickets": _tickets("tickets", "in total"),
            "tickets_30d": _tickets("tickets_30d", "in the last 30 days"),
            "tickets_90d": _tickets("tickets_90d", "in the last 90 days"),
            "repeated_tickets_90d": _repeated,
            "ticket_satisfaction": _ticket_rating,
            "days_since_last_ticket": lambda r: (
                "no support ticket yet"
                if _value(r, "days_since_last_ticket") is None
                else f"last support ticket {_days(_num(r, 'days_since_last_ticket'))} ago"
            ),
        },
    ),
    Driver.ORDER_PROBLEMS: ReasonRule(
        ReasonCode.PRODUCT_QUALITY,
        Playbook.SERVICE_RECOVERY,
        {"bad_orders_30d": _bad_orders(30), "bad_orders_90d": _bad_orders(90)},
    ),
    Driver.LOW_SATISFACTION: ReasonRule(
        ReasonCode.DISSATISFIED,
        Playbook.SERVICE_RECOVERY,
        {
            "nps_latest": _nps,
            "nps_change": _change("nps", "point"),
            "days_since_nps": _since("days_since_nps", "NPS answer", "never answered an NPS survey"),
            "csat_latest": _csat,
            "csat_change": _change("csat", "point"),
            "days_since_csat": _since("days_since_csat", "CSAT answer", "never answered a CSAT survey"),
        },
    ),
    Driver.RENEWAL: ReasonRule(
        ReasonCode.RENEWAL_RISK,
        Playbook.RENEWAL_CHECK_IN,
        {"days_to_renewal": _renewal, "days_in_period": _in_period, "billing_period_months": _billing},
    ),
    Driver.LOW_ADOPTION: ReasonRule(
        ReasonCode.LOW_ADOPTION,
        Playbook.ONBOARDING_NUDGE,
        {"features_never_used": _never_used, "features_used": _used},
    ),
    Driver.PRICE: ReasonRule(
        ReasonCode.PRICE,
        Playbook.PRICE_OFFER,
        {
            "discount_share": _discount,
            "mrr_change_90d": _mrr_change,
            "mrr": lambda r: f"MRR {_money(_num(r, 'mrr'))}",
            "plan": lambda r: f"on the {_value(r, 'plan') or 'unknown'} plan",
        },
    ),
    Driver.PAUSED: ReasonRule(
        ReasonCode.NO_LONGER_NEEDED,
        Playbook.RE_ENGAGEMENT,
        {
            "paused": _flag("paused", "subscription paused", "subscription not paused"),
            "pauses": lambda r: f"paused {_times(_num(r, 'pauses'))} so far" if _num(r, "pauses") else "never paused",
            "subscribed": _flag("subscribed", "subscription running", "no running subscription"),
            "subscription_periods": lambda r: f"{_count(_num(r, 'subscription_periods'), 'subscription period')}",
        },
    ),
    Driver.NEW_CUSTOMER: ReasonRule(
        ReasonCode.EARLY_LIFE,
        Playbook.ONBOARDING_NUDGE,
        {
            "tenure_days": lambda r: f"customer for {_days(_num(r, 'tenure_days'))}",
            "subscription_days": lambda r: f"subscribed for {_days(_num(r, 'subscription_days'))}",
        },
    ),
    Driver.PROFILE: ReasonRule(
        ReasonCode.OTHER,
        Playbook.ACCOUNT_REVIEW,
        {
            "acquisition_channel": lambda r: f"acquired via {_value(r, 'acquisition_channel') or 'an unknown channel'}",
            "country": lambda r: f"based in {_value(r, 'country') or 'an unknown country'}",
        },
    ),
    Driver.OTHER: ReasonRule(ReasonCode.OTHER, Playbook.ACCOUNT_REVIEW, {}),
}
"""Registry: driver → reason code, playbook and the sentence template of each of its features."""

_FEATURE_DRIVER: dict[str, Driver] = {feature: driver for driver, rule in REASONS.items() for feature in rule.templates}


def driver_of(feature: str) -> Driver:
    """The driver a feature belongs to (``Driver.OTHER`` for features the registry does not know)."""
    return _FEATURE_DRIVER.get(feature, Driver.OTHER)


@dataclass(frozen=True)
class Reason:
    """One plain-language reason of one customer."""

    driver: Driver
    feature: str
    text: str
    code: ReasonCode
    playbook: Playbook


def reason_for(feature: str, row: Mapping[str, Any]) -> Reason:
    """Phrase ``feature`` for a customer whose feature values are ``row``.

    Parameters
    ----------
    feature : str
        A feature column (one of ``churn_features``, or any other name: the generic template is used).
    row : Mapping[str, Any]
        The customer's feature values.

    Returns
    -------
    Reason
    """
    driver = driver_of(feature)
    rule = REASONS[driver]
    template = rule.templates.get(feature) or _generic(feature)
    return Reason(driver, feature, template(row), rule.code, rule.playbook)


# --------------------------------------------------------------------------- explain
def explain(model: Any, X: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """Top reasons raising each customer's churn risk.

    Parameters
    ----------
    model : ChurnModel
        A fitted model (anything with ``contributions(X)`` returning per-feature log-odds and ``bias``).
    X : pandas.DataFrame
        The customers' feature table, as passed to ``predict_proba``.
    top : int, default 3
        Reasons per customer (fewer when fewer drivers raise the risk).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``. For ``i`` in ``1..top``: ``reason_i`` (sentence), ``reason_code_i``, ``playbook_i``,
        ``driver_i`` and ``impact_i`` (the driver's summed contribution in log-odds, > 0); null when the customer
        has fewer reasons. Then ``reasons`` (the sentences joined by ``"; "``), ``reason_code`` and ``playbook``
        (those of the top reason).
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise InputError(f"top must be a positive integer; got {top!r}.")
    if not isinstance(X, pd.DataFrame):
        raise InputError(f"X must be a pandas DataFrame (the feature table); got {type(X).__name__}.")
    contrib = model.contributions(X).drop(columns="bias")
    drivers = [driver_of(str(col)) for col in contrib.columns]
    impact = contrib.T.groupby(drivers, sort=False).sum().T  # customers × drivers
    values = contrib.to_numpy()
    leading: dict[Driver, np.ndarray] = {}
    for driver in impact.columns:
        cols = np.flatnonzero(np.array(drivers) == driver)
        leading[driver] = contrib.columns[cols][np.argmax(values[:, cols], axis=1)].to_numpy()

    order = np.argsort(-impact.to_numpy(), axis=1, kind="stable")[:, :top]
    names = np.array(impact.columns)
    impacts = impact.to_numpy()
    rows = X.to_dict("records")
    records = []
    for i, row in enumerate(rows):
        record: dict[str, Any] = {}
        texts = []
        for rank, j in enumerate(order[i], start=1):
            if not impacts[i, j] > 0:
                break
            driver = Driver(names[j])
            reason = reason_for(str(leading[driver][i]), row)
            record |= {
                f"reason_{rank}": reason.text,
                f"reason_code_{rank}": str(reason.code),
                f"playbook_{rank}": str(reason.playbook),
                f"driver_{rank}": str(driver),
                f"impact_{rank}": float(impacts[i, j]),
            }
            texts.append(reason.text)
        record["reasons"] = "; ".join(texts)
        records.append(record)
    columns = [f"{name}_{rank}" for rank in range(1, top + 1) for name in _WIDE] + ["reasons"]
    out = (
        pd.DataFrame.from_records(records, columns=columns, index=X.index)
        if records
        else pd.DataFrame(columns=columns, index=X.index)
    )
    out["reason_code"] = out["reason_code_1"]
    out["playbook"] = out["playbook_1"]
    return out


_WIDE = ("reason", "reason_code", "playbook", "driver", "impact")
