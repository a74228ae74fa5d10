"""Churn reasons: true statements about a customer that raise their risk, with a code and a playbook.

``explain(model, X)`` reads the TreeSHAP contributions of :meth:`ChurnModel.contributions` (log-odds, one column
per feature) and groups the features into **drivers** (usage decline, inactivity, failed payments, complaints...)
through the registry :data:`REASONS`. Each feature of a driver declares its **risky side**
(:mod:`retain.models.churn.risky_side`): at least one failed payment, logins below the previous 30 days, fewer
logins than the typical customer, an NPS of 6 or less... A feature counts towards a customer's reasons only when
the customer's own value is on that side: a positive contribution of "0 refunds" or of growing usage is the
model comparing the customer with an average, not something that happened to them, so its mass goes nowhere
(it is not handed to another sentence that would then be false).

A **reason is one cause**: the drivers sharing a reason code and a playbook (usage decline and inactivity,
complaints and support tickets) form one, so a cause whose evidence is spread over many correlated features
(logins, events, trends, days since the last login) is weighed as a whole and does not fill the list twice. A
reason's impact is the sum of the contributions of its features that are on the risky side; the reasons with the
largest *positive* impact are shown. Each is phrased by the template of its strongest risky feature with the
customer's own numbers (:mod:`retain.models.churn.phrases`: "logins down 62 % vs the previous 30 days", "payment
failed twice in the last 90 days", "only 3 logins in the last 30 days (typical: 14)"), and carries the
:class:`ReasonCode` (:mod:`retain.contract.taxonomy`) and :class:`Playbook` of its drivers. A customer none of
whose risky values raises the risk gets no reason: nothing is invented to fill the slot.

Static context — country, plan, price level, billing period, acquisition channel, tenure after early life, and
any text feature the registry does not know — is never a reason: it is phrased in the separate ``context``
column (:mod:`retain.models.churn.context`). Numeric features the registry does not know have no declared risky
side and are never reasons either (:func:`reason_for` still phrases them as ``"<feature> = <value>"``).

The codes are those of the synthetic generator's true hazard (``retain.synth.simulation.DRIVERS``) for the same
causes: failed payments → ``payment_failed``, complaints and support → ``poor_service``, low NPS/CSAT →
``dissatisfied``, falling or low activity → ``disengaged``, early life → ``early_life``, a price increase →
``price``, a pause → ``no_longer_needed``, refunded or canceled orders → ``product_quality``.

Cost: nearly all the time is LightGBM's TreeSHAP inside ``model.contributions`` (measured: 0.7 ms of CPU per
customer and booster for 150 trees on 10 features; more for bigger models); explain the at-risk shortlist rather
than every customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from retain.contract.taxonomy import Playbook, ReasonCode
from retain.errors import InputError
from retain.models.churn import phrases as p
from retain.models.churn.context import CONTEXT_FEATURES, context_of, is_context
from retain.models.churn.features import WINDOWS_DAYS
from retain.models.churn.risky_side import (
    NEVER,
    RiskySide,
    above,
    above_typical,
    at_least,
    at_most,
    below,
    below_typical,
    fewer_than_before,
    is_false,
    is_true,
    missing,
    numbers,
    on,
    overdue_against_gap,
    typical_values,
)

__all__ = [
    "REASONS",
    "Driver",
    "Playbook",
    "Reason",
    "ReasonCode",
    "ReasonRule",
    "Signal",
    "driver_of",
    "explain",
    "reason_for",
    "signal_of",
]


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
    OTHER = "other"


@dataclass(frozen=True)
class Signal:
    """One feature of a driver: how it is phrased and which of its values are a risk."""

    template: p.Template
    risky: RiskySide


@dataclass(frozen=True)
class ReasonRule:
    """One driver: its reason code, recommended playbook and features (:class:`Signal` by feature name)."""

    code: ReasonCode
    playbook: Playbook
    signals: Mapping[str, Signal]


def _observed_for(days: int) -> RiskySide:
    """The customer was a customer for the whole window: "only 2 logins in 90 days" says nothing of someone who
    signed up 40 days ago (whose young age is the early-life reason). Tables without a tenure are not checked."""
    return on("tenure_days", at_least(days), absent=True)


def _declined(kind: str) -> RiskySide:
    """A trend below 1, or no previous activity to compare with and none now either, over 60 days of tenure."""
    return (below(1) | (missing() & on(f"{kind}_30d", at_most(0)))) & _observed_for(60)


def _mrr_increase(X: pd.DataFrame, feature: str, typical: Mapping[str, float]) -> np.ndarray:
    # MRR up while the customer already paid 90 days ago: a new or resumed subscription is not a price increase.
    change, now = numbers(X, feature), numbers(X, "mrr")
    with np.errstate(invalid="ignore"):
        return (change > 0) & (now - change > 0)


def _signals(**by_feature: tuple[p.Template, RiskySide]) -> dict[str, Signal]:
    return {feature: Signal(template, side) for feature, (template, side) in by_feature.items()}


_TRENDS = {f"{kind}_trend": Signal(p.trend(kind), _declined(kind)) for kind in p.KINDS} | {
    "events_trend_90d": Signal(p.slow_trend, _declined("events") & _observed_for(90)),
    # A log difference: below 0 is a decline; defined (0) when there was no use before and none now.
    "usage_trend_90d": Signal(p.usage_trend, below(0) & _observed_for(90)),
}
_WINDOWS = {
    f"{kind}_{w}d": Signal(p.window(kind, w), below_typical() & _observed_for(w))
    for kind in p.KINDS
    for w in WINDOWS_DAYS
}
_SEEN_RECENTLY = _signals(
    days_since_last_login=(p.since("days_since_last_login", "login", "never logged in"), above_typical(missing=True)),
    days_since_last_event=(
        p.since("days_since_last_event", "activity", "no activity recorded"),
        above_typical(missing=True),
    ),
)
_UNHAPPY = below(4)  # CSAT: 4 and 5 of 5 are "satisfied" (DESIGN.md §4)

REASONS: dict[Driver, ReasonRule] = {
    Driver.USAGE_DECLINE: ReasonRule(ReasonCode.DISENGAGED, Playbook.RE_ENGAGEMENT, _TRENDS),
    Driver.INACTIVITY: ReasonRule(ReasonCode.DISENGAGED, Playbook.RE_ENGAGEMENT, _SEEN_RECENTLY | _WINDOWS),
    Driver.ORDERING: ReasonRule(
        ReasonCode.DISENGAGED,
        Playbook.WIN_BACK,
        _signals(
            # A missing date is "no completed order yet", which a subscriber without add-ons is; not a risk.
            days_since_last_order=(p.last_order, above_typical()),
            orders_90d=(p.orders_90d, below_typical() & _observed_for(90)),
            orders_prev_90d=(p.orders_falling, fewer_than_before()),  # the customer's own order rhythm slowed
            typical_order_gap_days=(p.overdue, overdue_against_gap(2.0)),  # twice their usual gap and no order
            orders=(p.orders, below_typical()),  # few orders so far: a one-time buyer at any age
            revenue_90d=(p.revenue_90d, below_typical() & _observed_for(90)),
            revenue=(p.revenue, NEVER),  # what the customer is worth, not what they do
            aov=(p.aov, NEVER),
        ),
    ),
    Driver.FAILED_PAYMENTS: ReasonRule(
        ReasonCode.PAYMENT_FAILED,
        Playbook.DUNNING,
        _signals(failed_payments_30d=(p.failed(30), at_least(1)), failed_payments_90d=(p.failed(90), at_least(1))),
    ),
    Driver.COMPLAINTS: ReasonRule(
        ReasonCode.POOR_SERVICE,
        Playbook.SERVICE_RECOVERY,
        _signals(
            open_complaints=(p.open_complaints, at_least(1)),
            oldest_open_complaint_days=(p.open_complaints, on("open_complaints", at_least(1))),
            complaints=(p.complaints_in(None), at_least(1)),
            complaints_30d=(p.complaints_in(30), at_least(1)),
            complaints_90d=(p.complaints_in(90), at_least(1)),
        ),
    ),
    Driver.SUPPORT_TICKETS: ReasonRule(
        ReasonCode.POOR_SERVICE,
        Playbook.SERVICE_RECOVERY,
        _signals(
            open_tickets=(p.tickets("open_tickets", "open"), at_least(1)),
            tickets=(p.tickets_total, at_least(1) & above_typical()),
            tickets_30d=(p.tickets("tickets_30d", "in the last 30 days"), at_least(1)),
            tickets_90d=(p.tickets("tickets_90d", "in the last 90 days"), at_least(1)),
            repeated_tickets_90d=(p.repeated, at_least(1)),
            ticket_satisfaction=(p.ticket_rating, _UNHAPPY),
            days_since_last_ticket=(p.last_ticket, NEVER),  # recent tickets are counted by tickets_30d
        ),
    ),
    Driver.ORDER_PROBLEMS: ReasonRule(
        ReasonCode.PRODUCT_QUALITY,
        Playbook.SERVICE_RECOVERY,
        _signals(bad_orders_30d=(p.bad_orders(30), at_least(1)), bad_orders_90d=(p.bad_orders(90), at_least(1))),
    ),
    Driver.LOW_SATISFACTION: ReasonRule(
        ReasonCode.DISSATISFIED,
        Playbook.SERVICE_RECOVERY,
        _signals(
            nps_latest=(p.nps, at_most(6)),  # detractors (DESIGN.md §4)
            nps_change=(p.change("nps"), below(0) & on("nps_latest", at_most(8))),  # fell, and not a promoter now
            days_since_nps=(p.since("days_since_nps", "NPS answer", "never answered an NPS survey"), NEVER),
            csat_latest=(p.csat, _UNHAPPY),
            csat_change=(p.change("csat"), below(0) & on("csat_latest", _UNHAPPY)),
            days_since_csat=(p.since("days_since_csat", "CSAT answer", "never answered a CSAT survey"), NEVER),
        ),
    ),
    Driver.RENEWAL: ReasonRule(
        ReasonCode.RENEWAL_RISK,
        Playbook.RENEWAL_CHECK_IN,
        _signals(
            # A monthly plan renews every month: only a longer term coming up for renewal is a decision point.
            days_to_renewal=(p.renewal, at_most(30) & on("billing_period_months", above(1))),
            days_in_period=(p.in_period, NEVER),
        ),
    ),
    Driver.LOW_ADOPTION: ReasonRule(
        ReasonCode.LOW_ADOPTION,
        Playbook.ONBOARDING_NUDGE,
        _signals(features_never_used=(p.never_used, above_typical()), features_used=(p.used, below_typical())),
    ),
    Driver.PRICE: ReasonRule(
        ReasonCode.PRICE,
        Playbook.PRICE_OFFER,
        _signals(
            mrr_change_90d=(p.mrr_change, RiskySide("> 0 while paying 90 days ago", _mrr_increase)),
            discount_share=(p.discount, NEVER),  # buying on discount is a habit, not a change in price
        ),
    ),
    Driver.PAUSED: ReasonRule(
        ReasonCode.NO_LONGER_NEEDED,
        Playbook.RE_ENGAGEMENT,
        _signals(
            paused=(p.flag("paused", "subscription paused", "subscription not paused"), is_true()),
            pauses=(p.pauses, at_least(1)),
            subscribed=(p.flag("subscribed", "subscription running", "no running subscription"), is_false()),
            subscription_periods=(p.periods, NEVER),
        ),
    ),
    Driver.NEW_CUSTOMER: ReasonRule(
        ReasonCode.EARLY_LIFE,
        Playbook.ONBOARDING_NUDGE,
        _signals(
            tenure_days=(p.tenure("tenure_days", "customer"), below(p.EARLY_LIFE_DAYS)),
            subscription_days=(p.tenure("subscription_days", "subscribed"), below(p.EARLY_LIFE_DAYS)),
        ),
    ),
    Driver.OTHER: ReasonRule(ReasonCode.OTHER, Playbook.ACCOUNT_REVIEW, {}),
}
"""Registry: driver → reason code, playbook and, per feature, its sentence template and risky side. Static
context (:data:`retain.models.churn.context.CONTEXT_FEATURES`) is in no driver."""

_FEATURE_DRIVER: dict[str, Driver] = {feature: driver for driver, rule in REASONS.items() for feature in rule.signals}


def driver_of(feature: str) -> Driver:
    """The driver a feature belongs to (``Driver.OTHER`` for static context and features the registry does not
    know)."""
    return _FEATURE_DRIVER.get(feature, Driver.OTHER)


def signal_of(feature: str) -> Signal:
    """The feature's template and risky side; features of no driver have the generic template and no risky side."""
    rule = REASONS[driver_of(feature)]
    return rule.signals.get(feature) or Signal(p.generic(feature), NEVER)


@dataclass(frozen=True)
class Reason:
    """One plain-language reason of one customer."""

    driver: Driver
    feature: str
    text: str
    code: ReasonCode
    playbook: Playbook


def reason_for(feature: str, row: Mapping[str, Any], typical: Mapping[str, float] | None = None) -> Reason:
    """Phrase ``feature`` for a customer whose feature values are ``row``.

    This phrases whatever value the row holds; whether it is a reason at all is :func:`explain`'s decision
    (the feature's risky side).

    Parameters
    ----------
    feature : str
        A feature column (one of ``churn_features``, or any other name: the generic template is used).
    row : Mapping[str, Any]
        The customer's feature values.
    typical : Mapping[str, float], optional
        The population's typical value per feature, named in sentences that compare ("(typical: 14)").

    Returns
    -------
    Reason

    Raises
    ------
    InputError
        When ``feature`` is static context (country, plan, ...), which is never a reason.
    """
    if feature in CONTEXT_FEATURES and feature not in _FEATURE_DRIVER:
        raise InputError(
            f"{feature!r} is static context (who the customer is), never a reason with a playbook; "
            "explain() shows it in the context column."
        )
    driver = driver_of(feature)
    rule = REASONS[driver]
    return Reason(driver, feature, signal_of(feature).template(row, typical or {}), rule.code, rule.playbook)


# --------------------------------------------------------------------------- explain
def _cause(driver: Driver) -> tuple[ReasonCode, Playbook] | None:
    """The cause a driver's features speak for (its code and playbook); ``None`` for features of no driver."""
    if driver is Driver.OTHER:
        return None
    rule = REASONS[driver]
    return rule.code, rule.playbook


def _typical(model: Any, X: pd.DataFrame, reference: Mapping[str, float] | pd.DataFrame | None) -> dict[str, float]:
    if isinstance(reference, pd.DataFrame):
        return typical_values(reference)
    if reference is not None:
        return dict(reference)
    learned = getattr(model, "feature_medians_", None)
    # Models saved before the medians were learned: the rows being explained are the only population at hand.
    return dict(learned) if learned is not None else typical_values(X)


def explain(
    model: Any,
    X: pd.DataFrame,
    *,
    top: int = 3,
    reference: Mapping[str, float] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Top reasons raising each customer's churn risk, each a true statement about the customer.

    Parameters
    ----------
    model : ChurnModel
        A fitted model (anything with ``contributions(X)`` returning per-feature log-odds and ``bias``).
    X : pandas.DataFrame
        The customers' feature table, as passed to ``predict_proba``.
    top : int, default 3
        Reasons per customer (fewer when fewer causes raise the risk with risky values).
    reference : Mapping[str, float] or pandas.DataFrame, optional
        The typical value of each numeric feature, or a population to take the medians of. Default: the
        model's ``feature_medians_`` (its training rows), else the medians of ``X``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``. For ``i`` in ``1..top``: ``reason_i`` (sentence), ``reason_code_i``, ``playbook_i``,
        ``driver_i`` (the driver of the sentence's feature) and ``impact_i`` (the summed contribution in log-odds
        of the cause's features on the risky side, > 0); null when the customer has fewer reasons. Then
        ``reasons`` (the sentences joined by ``"; "``; ``""`` when there is none), ``reason_code`` and
        ``playbook`` (those of the top reason), and ``context`` (static attributes, never reasons:
        ``"business plan, billed monthly, DE"``).
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise InputError(f"top must be a positive integer; got {top!r}.")
    if not isinstance(X, pd.DataFrame):
        raise InputError(f"X must be a pandas DataFrame (the feature table); got {type(X).__name__}.")
    typical = _typical(model, X, reference)
    contrib = model.contributions(X).drop(columns="bias")
    features = np.array([str(col) for col in contrib.columns], dtype=object)
    # One reason per cause: drivers sharing a code and a playbook (usage decline and inactivity, complaints and
    # support tickets) are one reason, else the same cause would fill the list twice with its mass split.
    cause_of = [_cause(driver_of(f)) for f in features]
    groups = [c for c in dict.fromkeys(cause_of) if c is not None]
    causes = np.array([-1 if c is None else groups.index(c) for c in cause_of], dtype=int)
    # customers × features: the contributions whose feature states something true and risky about the customer.
    risky = np.zeros((len(X), len(features)), dtype=bool)
    for k, feature in enumerate(features):
        risky[:, k] = signal_of(feature).risky.of(X, feature, typical)
    values = contrib.to_numpy()
    kept = np.where(risky, values, 0.0)
    strongest = np.where(risky, values, -np.inf)
    impacts = np.zeros((len(X), len(groups)))
    leading = np.empty((len(X), len(groups)), dtype=object)
    for j in range(len(groups)):
        cols = causes == j
        impacts[:, j] = kept[:, cols].sum(axis=1)
        leading[:, j] = features[cols][np.argmax(strongest[:, cols], axis=1)]
    order = np.argsort(-impacts, axis=1, kind="stable")[:, :top]

    rows = X.to_dict("records")
    records = []
    for i, row in enumerate(rows):
        record: dict[str, Any] = {}
        texts = []
        for rank, j in enumerate(order[i], start=1):
            if not impacts[i, j] > 0:
                break
            reason = reason_for(str(leading[i, j]), row, typical)
            record |= {
                f"reason_{rank}": reason.text,
                f"reason_code_{rank}": str(reason.code),
                f"playbook_{rank}": str(reason.playbook),
                f"driver_{rank}": str(reason.driver),
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
    unknown_text = [f for f in features if f not in CONTEXT_FEATURES and f not in _FEATURE_DRIVER and is_context(f, X)]
    out["context"] = context_of(X, extra=unknown_text)
    return out


_WIDE = ("reason", "reason_code", "playbook", "driver", "impact")
