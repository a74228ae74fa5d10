"""Tiny hand-written timelines for every trigger kind, with the exact entries expected.

Each :class:`Case` is a few customers and a few rows per table (written as CSV, ingested into a real workspace),
an ``as_of``, the trigger's parameters and the exact set of ``(customer_id, trigger_key)`` that must fire —
including the near-misses at the window boundaries (an instant exactly ``within_days`` before ``as_of`` is
outside, one microsecond later inside; day 29 / 30 / 31 of a 30-day silence). The profile-based triggers get their
profiles as small tables.

Import with ``from trigger_timelines import ...`` (pytest puts tests/automation on sys.path for its tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from retain.automation.triggers import TriggerInputs, evaluate_trigger
from retain.clock import FixedClock
from retain.contract.profile import PROFILE
from retain.facts import Facts
from retain.workspace import Workspace

AS_OF = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
"""The instant most cases are evaluated at: the window (2024-03-30 12:00, 2024-03-31 12:00] for one day."""


@dataclass(frozen=True)
class Case:
    """One timeline, one trigger, one instant, and what must fire."""

    id: str
    kind: str
    params: dict[str, Any]
    tables: dict[str, str]
    """Canonical table name → CSV text."""
    expected: set[tuple[str, str]]
    as_of: datetime = AS_OF
    profile: list[dict[str, Any]] | None = None
    previous_profile: list[dict[str, Any]] | None = None
    segments: list[tuple[str, str]] | None = None
    previous_segments: list[tuple[str, str]] | None = None
    details: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """For some entries: keys and values their ``detail`` JSON must hold."""


# --- signup ------------------------------------------------------------------------------------------------------
SIGNUP_CUSTOMERS = """customer_id,created_at
c1,2024-03-30T12:00:00Z
c2,2024-03-30T12:00:00.000001Z
c3,2024-03-31T12:00:00Z
c4,2024-03-31T12:00:00.000001Z
c6,2024-01-01T00:00:00Z
c7,2024-03-24T12:00:00Z
"""
# c5 has no customers row: first seen with its order. c6's order in the window does not make it a signup.
SIGNUP_ORDERS = """order_id,customer_id,ordered_at,amount,status
o1,c5,2024-03-31T08:00:00Z,10,completed
o2,c6,2024-03-31T09:00:00Z,10,completed
"""
SIGNUP = {"customers": SIGNUP_CUSTOMERS, "orders": SIGNUP_ORDERS}

# --- event -------------------------------------------------------------------------------------------------------
EVENTS = """event_id,customer_id,event_type,occurred_at,properties
e1,c1,payment_failed,2024-03-30T12:00:00Z,
e2,c1,payment_failed,2024-03-30T12:00:00.000001Z,
e3,c2,payment_failed,2024-03-31T10:00:00Z,"{""amount"": 20}"
e4,c2,payment_failed,2024-03-31T10:00:00Z,"{""amount"": 20}"
e5,c2,payment_failed,2024-03-31T11:00:00Z,
e6,c3,login,2024-03-31T10:00:00Z,
e7,c4,payment_failed,2024-03-31T12:00:00.000001Z,
e8,c5,payment_failed,2024-03-31T12:00:00Z,
"""

# --- inactive (30 days at 2024-03-31: the last activity fell on 2024-03-01) -----------------------------------
INACTIVE_CUSTOMERS = """customer_id,created_at
c1,2024-01-01T00:00:00Z
c2,2024-01-01T00:00:00Z
c3,2024-01-01T00:00:00Z
c4,2024-01-01T00:00:00Z
c5,2024-01-01T00:00:00Z
c6,2024-03-01T05:00:00Z
c7,2024-02-01T00:00:00Z
c8,2024-01-01T00:00:00Z
c9,2024-01-01T00:00:00Z
c10,2024-01-01T00:00:00Z
"""
INACTIVE_EVENTS = """event_id,customer_id,event_type,occurred_at
e1,c1,login,2024-03-01T23:59:59.999999Z
e2,c2,login,2024-03-02T00:00:00Z
e5,c5,login,2024-03-01T10:00:00Z
e9,c9,login,2024-03-01T09:00:00Z
e9b,c9,page_view,2024-03-20T09:00:00Z
e10,c10,login,2024-03-01T06:00:00Z
e10b,c10,login,2024-03-31T12:00:00.000001Z
"""
INACTIVE_ORDERS = """order_id,customer_id,ordered_at,amount,status
o3,c3,2024-02-29T23:59:59Z,10,completed
o4,c4,2024-03-01T00:00:00Z,10,completed
o5,c5,2024-03-10T00:00:00Z,10,completed
o8,c8,2024-03-01T08:00:00Z,10,completed
o8b,c8,2024-03-20T08:00:00Z,10,canceled
"""
INACTIVE = {"customers": INACTIVE_CUSTOMERS, "events": INACTIVE_EVENTS, "orders": INACTIVE_ORDERS}

# --- date ----------------------------------------------------------------------------------------------------------
DATE_CUSTOMERS = """customer_id,created_at,birth_date
c1,2024-01-01T00:00:00Z,1990-03-31
c2,2024-01-01T00:00:00Z,1990-03-30
c3,2024-01-01T00:00:00Z,1990-04-01
c4,2024-01-01T00:00:00Z,2024-03-31
c5,2024-01-01T00:00:00Z,
c6,2024-01-01T00:00:00Z,1992-02-29
c7,2024-01-01T00:00:00Z,1990-02-28
c8,2024-01-01T00:00:00Z,1990-03-01
a1,2023-03-31T23:00:00Z,
a2,2024-03-31T01:00:00Z,
a3,2022-03-31T00:00:00Z,
a4,2023-03-30T23:59:59.999999Z,
a5,2023-04-01T00:00:00Z,
a6,2020-02-29T10:00:00Z,
"""
DATE_SUBSCRIPTIONS = """subscription_id,customer_id,plan,mrr,started_at,ended_at,status,billing_period_months
s1,c1,basic,10,2024-01-31T09:00:00Z,,active,1
s1b,c1,extra,5,2023-12-31T09:00:00Z,,active,1
s2,c2,basic,10,2024-02-29T09:00:00Z,,active,1
s3,c3,pro,100,2023-03-31T09:00:00Z,,active,12
s4,c4,pro,30,2023-12-31T09:00:00Z,,active,3
s5,c5,basic,10,2024-01-30T09:00:00Z,,active,1
s6,c6,basic,10,2024-01-31T09:00:00Z,,paused,1
s7,c7,basic,10,2024-01-31T09:00:00Z,2024-03-15T00:00:00Z,canceled,1
s8,c8,pro,60,2023-09-30T09:00:00Z,,active,6
s11,a1,basic,10,2024-01-29T09:00:00Z,,active,
"""
DATE = {"customers": DATE_CUSTOMERS, "subscriptions": DATE_SUBSCRIPTIONS}

# --- onboarding (7 days at 2024-03-31: created on 2024-03-24) ---------------------------------------------------
ONBOARDING_CUSTOMERS = """customer_id,created_at
c1,2024-03-24T00:00:00Z
c2,2024-03-24T23:59:59.999999Z
c3,2024-03-23T23:59:59.999999Z
c4,2024-03-25T00:00:00Z
c5,2024-03-24T10:00:00Z
c6,2024-03-24T10:00:00Z
"""
ONBOARDING_EVENTS = """event_id,customer_id,event_type,occurred_at
e1,c2,login,2024-03-25T10:00:00Z
e2,c5,report_created,2024-03-30T10:00:00Z
e3,c6,report_created,2024-03-31T12:00:00.000001Z
"""
ONBOARDING = {"customers": ONBOARDING_CUSTOMERS, "events": ONBOARDING_EVENTS}

# --- profile-based triggers: the facts only need to exist ------------------------------------------------------
FEW_CUSTOMERS = {"customers": "customer_id,created_at\nc1,2024-01-01T00:00:00Z\nc2,2024-01-01T00:00:00Z\n"}
RISK_PROFILE = [
    {"customer_id": "c1", "p_churn": 0.5, "reason_code": "disengaged", "reasons": "No login for 20 days"},
    {"customer_id": "c2", "p_churn": 0.3, "reason_code": "price", "reasons": "Asked about prices"},
    {"customer_id": "c3", "p_churn": 0.2999, "reason_code": "price", "reasons": None},
    {"customer_id": "c4", "p_churn": None, "reason_code": None, "reasons": None},
    {"customer_id": "c5", "p_churn": 0.9, "reason_code": "payment_failed", "reasons": "Payment failed"},
]
IDS = [{"customer_id": c} for c in ("c1", "c2", "c3", "c4")]
SEGMENTS_NOW = [("c1", "vip"), ("c2", "vip"), ("c3", "vip"), ("c4", "other"), ("c3", "other")]
SEGMENTS_BEFORE = [("c1", "vip"), ("c3", "other"), ("c4", "vip")]
PREVIOUS_IDS = [{"customer_id": c} for c in ("c1", "c3", "c4")]  # c2 is new since
LIFECYCLE_NOW = [
    {"customer_id": "c1", "lifecycle_state": "at_risk"},
    {"customer_id": "c2", "lifecycle_state": "at_risk"},
    {"customer_id": "c3", "lifecycle_state": "at_risk"},
    {"customer_id": "c4", "lifecycle_state": "active"},
    {"customer_id": "c5", "lifecycle_state": "at_risk"},
]
LIFECYCLE_BEFORE = [
    {"customer_id": "c1", "lifecycle_state": "active"},
    {"customer_id": "c2", "lifecycle_state": "at_risk"},
    {"customer_id": "c4", "lifecycle_state": "at_risk"},
    {"customer_id": "c5", "lifecycle_state": None},
]  # c3 was no customer yet

# --- ticket (30 days at 2024-03-31 12:00: opened in (2024-03-01 12:00, 2024-03-31 12:00]) -------------------------
TICKETS = """ticket_id,customer_id,opened_at,resolved_at,category,is_complaint
t1,c1,2024-03-10T00:00:00Z,,,true
t2,c1,2024-03-20T00:00:00Z,,,true
t3,c2,2024-03-10T00:00:00Z,,,true
t4,c2,2024-03-20T00:00:00Z,2024-03-25T00:00:00Z,,true
t5,c3,2024-03-10T00:00:00Z,,,true
t6,c3,2024-03-20T00:00:00Z,2024-04-02T00:00:00Z,,true
t7,c4,2024-03-01T12:00:00Z,,,true
t8,c4,2024-03-15T00:00:00Z,,,true
t9,c5,2024-03-01T12:00:00.000001Z,,,true
t10,c5,2024-03-31T12:00:00Z,,,true
t11,c6,2024-03-10T00:00:00Z,,,false
t12,c6,2024-03-12T00:00:00Z,,,true
t13,c7,2024-03-10T00:00:00Z,,billing,true
t14,c7,2024-03-11T00:00:00Z,,billing,true
t15,c7,2024-03-12T00:00:00Z,,shipping,true
"""

# --- survey (1 day at 2024-03-31 12:00) -------------------------------------------------------------------------
FEEDBACK = """response_id,customer_id,survey,score,reason,comment,responded_at
r1,c1,nps,6,price,"Too ""slow"" \\ sorry",2024-03-31T09:00:00Z
r2,c2,nps,7,,,2024-03-31T09:00:00Z
r3,c3,nps,0,,,2024-03-30T12:00:00Z
r4,c4,csat,2,,,2024-03-31T09:00:00Z
r5,c5,nps,3,,,2024-03-30T12:00:00.000001Z
r6,c6,nps,,,,2024-03-31T09:00:00Z
r7,c1,nps,5,,,2024-03-31T11:00:00Z
r8,c7,nps,10,,Love it,2024-03-31T12:00:00Z
r9,c8,nps,9,,,2024-03-31T12:00:00.000001Z
"""

# --- churned (30 days at 2024-03-31 12:00; shops churn 2 × 90 days after their last completed order) ---------------
CHURN_SUBSCRIPTIONS = """subscription_id,customer_id,plan,mrr,started_at,ended_at,status,cancel_reason,churn_type
s1,c1,basic,10,2023-01-01T00:00:00Z,2024-03-15T00:00:00Z,canceled,price,voluntary
s2,c2,basic,10,2023-01-01T00:00:00Z,2024-03-01T12:00:00Z,canceled,price,voluntary
s3,c3,basic,10,2023-01-01T00:00:00Z,2024-03-01T12:00:00.000001Z,canceled,payment_failed,involuntary
s4,c4,basic,10,2023-01-01T00:00:00Z,2024-03-10T00:00:00Z,active,,
s4,c4,pro,20,2024-03-10T00:00:00Z,,active,,
s5,c5,basic,10,2023-01-01T00:00:00Z,2024-03-10T00:00:00Z,active,,
s5,c5,basic,0,2024-03-10T00:00:00Z,,paused,,
s6,c6,basic,10,2023-01-01T00:00:00Z,2024-04-02T00:00:00Z,canceled,price,voluntary
s7a,c7,basic,10,2023-01-01T00:00:00Z,2024-02-01T00:00:00Z,canceled,price,voluntary
s7b,c7,basic,10,2024-02-15T00:00:00Z,2024-03-20T00:00:00Z,canceled,missing_feature,voluntary
s8a,c8,basic,10,2023-01-01T00:00:00Z,2024-01-01T00:00:00Z,canceled,price,voluntary
s8b,c8,basic,10,2024-03-25T00:00:00Z,2024-03-25T00:00:00Z,canceled,price,voluntary
"""
CHURN_ORDERS = """order_id,customer_id,ordered_at,amount,status
o1,c1,2023-09-20T10:00:00Z,10,completed
o20,c20,2023-09-20T10:00:00Z,10,completed
o21,c21,2023-09-03T12:00:00Z,10,completed
o22,c22,2023-10-03T12:00:00Z,10,completed
o23,c23,2023-10-03T12:00:00.000001Z,10,completed
o24,c24,2023-09-20T10:00:00Z,10,completed
o24b,c24,2024-01-01T10:00:00Z,10,canceled
"""
CHURN = {"subscriptions": CHURN_SUBSCRIPTIONS, "orders": CHURN_ORDERS}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CASES: list[Case] = [
    # signup: c1 exactly one day before as_of (out), c2 one microsecond later (in), c3 at as_of, c4 after it;
    # c5 first seen by an order; c6 created long ago; c7 exactly 7 days before.
    Case(
        "signup",
        "signup",
        {},
        SIGNUP,
        {("c2", "signup:2024-03-30"), ("c3", "signup:2024-03-31"), ("c5", "signup:2024-03-31")},
        details={("c2", "signup:2024-03-30"): {"created_at": "2024-03-30T12:00:00.000001Z"}},
    ),
    Case(
        "signup-7-days",
        "signup",
        {"within_days": 7},
        SIGNUP,
        {
            ("c1", "signup:2024-03-30"),
            ("c2", "signup:2024-03-30"),
            ("c3", "signup:2024-03-31"),
            ("c5", "signup:2024-03-31"),
        },
    ),
    # event: e1 on the boundary, e3/e4 one event twice (one entry), e5 a second event, e6 another type,
    # e7 after as_of, e8 at as_of.
    Case(
        "event",
        "event",
        {"event_type": "payment_failed"},
        {"events": EVENTS},
        {
            ("c1", "event:payment_failed:2024-03-30T12:00:00.000001Z"),
            ("c2", "event:payment_failed:2024-03-31T10:00:00Z"),
            ("c2", "event:payment_failed:2024-03-31T11:00:00Z"),
            ("c5", "event:payment_failed:2024-03-31T12:00:00Z"),
        },
        details={
            ("c2", "event:payment_failed:2024-03-31T10:00:00Z"): {
                "event_type": "payment_failed",
                "occurred_at": "2024-03-31T10:00:00Z",
                "properties": {"amount": 20},
            },
            ("c5", "event:payment_failed:2024-03-31T12:00:00Z"): {"properties": None},
        },
    ),
    Case(
        "event-other-type",
        "event",
        {"event_type": "login", "within_days": 2},
        {"events": EVENTS},
        {("c3", "event:login:2024-03-31T10:00:00Z")},
    ),
    # inactive, any activity: c1 last login late on day 30 (fires), c2 day 29, c3 day 31; c4 an order on day 30;
    # c5 a later order; c6 never active, created on day 30; c7 never active, created earlier; c8 a canceled order
    # later (not activity); c9 a page view later (not activity); c10 a login after as_of (unknown then).
    Case(
        "inactive-any",
        "inactive",
        {"days": 30},
        INACTIVE,
        {(c, "inactive:2024-03-01") for c in ("c1", "c4", "c6", "c8", "c9", "c10")},
        details={
            ("c1", "inactive:2024-03-01"): {
                "days_inactive": 30,
                "activity": "any",
                "last_activity": "2024-03-01T23:59:59.999999Z",
            },
            ("c6", "inactive:2024-03-01"): {"last_activity": None, "since": "2024-03-01T05:00:00Z"},
        },
    ),
    Case(
        "inactive-login",
        "inactive",
        {"days": 30, "activity": "login"},
        INACTIVE,
        {(c, "inactive:2024-03-01") for c in ("c1", "c5", "c6", "c9", "c10")},
    ),
    Case(
        "inactive-order",
        "inactive",
        {"days": 30, "activity": "order"},
        INACTIVE,
        {(c, "inactive:2024-03-01") for c in ("c4", "c6", "c8")},
    ),
    Case(
        "inactive-next-day",  # one day later the same silences are 31 days old: only day-30 customers fire
        "inactive",
        {"days": 30},
        INACTIVE,
        {("c2", "inactive:2024-03-02")},
        as_of=_at("2024-04-01T00:00:00"),
    ),
    # date: birthdays (c1 today, c2 yesterday, c3 tomorrow, c4 born today, c5 no date).
    Case(
        "date-birthday",
        "date",
        {"field": "birthday"},
        DATE,
        {("c1", "birthday:2024-03-31")},
        details={("c1", "birthday:2024-03-31"): {"date": "2024-03-31", "birth_date": "1990-03-31", "age": 34}},
    ),
    Case(  # 2025 has no 29 February: c6 (born 1992-02-29) celebrates on the 28th with c7
        "date-birthday-feb-28",
        "date",
        {"field": "birthday", "days_before": 7},
        DATE,
        {("c6", "birthday:2025-02-28"), ("c7", "birthday:2025-02-28")},
        as_of=_at("2025-02-21T08:00:00"),
        details={("c6", "birthday:2025-02-28"): {"age": 33}},
    ),
    Case(  # 2024 has one: c6 on the 29th, c7 not
        "date-birthday-leap",
        "date",
        {"field": "birthday", "days_before": 7},
        DATE,
        {("c6", "birthday:2024-02-29")},
        as_of=_at("2024-02-22T08:00:00"),
    ),
    # anniversaries: a1 one year, a3 two years, a2 signed up this very day (no anniversary), a4 and a5 a
    # microsecond either side of the day; c* were created this year.
    Case(
        "date-anniversary",
        "date",
        {"field": "signup_anniversary"},
        DATE,
        {("a1", "signup_anniversary:2024-03-31"), ("a3", "signup_anniversary:2024-03-31")},
        details={("a3", "signup_anniversary:2024-03-31"): {"years": 2, "created_at": "2022-03-31T00:00:00Z"}},
    ),
    Case(
        "date-anniversary-feb-29",
        "date",
        {"field": "signup_anniversary"},
        DATE,
        {("a6", "signup_anniversary:2023-02-28")},
        as_of=_at("2023-02-28T10:00:00"),
    ),
    # renewals on 2024-03-31 (3 days ahead): s1 (Jan 31, monthly) and s1b (Dec 31) are one entry for c1; s2 (Feb 29)
    # renews on the 29th; s3 yearly; s4 quarterly; s5 on the 30th; s6 paused; s7 ended; s8 half-yearly on the 30th.
    Case(
        "date-renewal",
        "date",
        {"field": "renewal", "days_before": 3},
        DATE,
        {("c1", "renewal:2024-03-31"), ("c3", "renewal:2024-03-31"), ("c4", "renewal:2024-03-31")},
        as_of=_at("2024-03-28T12:00:00"),
        details={
            ("c1", "renewal:2024-03-31"): {"subscription_id": "s1", "plan": "basic", "billing_period_months": 1},
            ("c3", "renewal:2024-03-31"): {"subscription_id": "s3", "billing_period_months": 12, "mrr": 100.0},
        },
    ),
    # renewals on 2024-02-29, the last day of February: s1 (31st) and s5 (30th) clamp to it, s11 (29th, no billing
    # period: monthly) renews on it; s7 ended on 15 March, which was not known on 26 February; s2 had not started.
    Case(
        "date-renewal-month-end",
        "date",
        {"field": "renewal", "days_before": 3},
        DATE,
        {(c, "renewal:2024-02-29") for c in ("c1", "c5", "c7", "a1")},
        as_of=_at("2024-02-26T12:00:00"),
    ),
    # onboarding: c1 and c2 signed up at either end of 24 March; c3 a microsecond before it, c4 on the 25th; c5 used
    # the feature; c6 used it only after as_of.
    Case(
        "onboarding",
        "onboarding",
        {"feature": "report_created"},
        ONBOARDING,
        {(c, "onboarding:report_created:2024-03-24") for c in ("c1", "c2", "c6")},
        details={("c2", "onboarding:report_created:2024-03-24"): {"feature": "report_created", "days": 7}},
    ),
    # risk: 0.3 is at the threshold (fires), 0.2999 below, a null score never fires.
    Case(
        "risk",
        "risk",
        {"min_p_churn": 0.3},
        FEW_CUSTOMERS,
        {(c, "risk:2024-03") for c in ("c1", "c2", "c5")},
        profile=RISK_PROFILE,
        details={("c1", "risk:2024-03"): {"p_churn": 0.5, "reason_code": "disengaged"}},
    ),
    Case(
        "risk-reason",
        "risk",
        {"min_p_churn": 0.3, "reason": "price"},
        FEW_CUSTOMERS,
        {("c2", "risk:2024-03")},
        profile=RISK_PROFILE,
    ),
    # segment_entry: c2 is new (no previous row), c3 was in another segment, c1 was already in, c4 left.
    Case(
        "segment-entry",
        "segment_entry",
        {"segment": "vip"},
        FEW_CUSTOMERS,
        {("c2", "segment:vip:2024-03-31"), ("c3", "segment:vip:2024-03-31")},
        profile=IDS,
        previous_profile=PREVIOUS_IDS,
        segments=SEGMENTS_NOW,
        previous_segments=SEGMENTS_BEFORE,
        details={("c2", "segment:vip:2024-03-31"): {"segment": "vip"}},
    ),
    Case(  # the first snapshot is the baseline
        "segment-entry-first-snapshot",
        "segment_entry",
        {"segment": "vip"},
        FEW_CUSTOMERS,
        set(),
        profile=IDS,
        segments=SEGMENTS_NOW,
    ),
    # lifecycle into at_risk: c1 from active, c3 new since (no previous row), c5 from no stage; c2 stayed, c4 left.
    Case(
        "lifecycle",
        "lifecycle",
        {"to": "at_risk"},
        FEW_CUSTOMERS,
        {(c, "lifecycle:at_risk:2024-03-31") for c in ("c1", "c3", "c5")},
        profile=LIFECYCLE_NOW,
        previous_profile=LIFECYCLE_BEFORE,
        details={
            ("c1", "lifecycle:at_risk:2024-03-31"): {"from": "active", "to": "at_risk"},
            ("c3", "lifecycle:at_risk:2024-03-31"): {"from": None},
        },
    ),
    Case(
        "lifecycle-from",
        "lifecycle",
        {"to": "at_risk", "from": "active"},
        FEW_CUSTOMERS,
        {("c1", "lifecycle:at_risk:2024-03-31")},
        profile=LIFECYCLE_NOW,
        previous_profile=LIFECYCLE_BEFORE,
    ),
    Case(
        "lifecycle-from-none",
        "lifecycle",
        {"to": "at_risk", "from": "none"},
        FEW_CUSTOMERS,
        {("c3", "lifecycle:at_risk:2024-03-31"), ("c5", "lifecycle:at_risk:2024-03-31")},
        profile=LIFECYCLE_NOW,
        previous_profile=LIFECYCLE_BEFORE,
    ),
    # ticket: c1 two open complaints; c2 one resolved; c3 one resolved only after as_of (open then); c4 one on the
    # window's open end; c5 one a microsecond inside it and one at as_of; c6 one is no complaint; c7 three.
    Case(
        "ticket",
        "ticket",
        {},
        {"tickets": TICKETS},
        {
            ("c1", "ticket:2024-03-20"),
            ("c3", "ticket:2024-03-20"),
            ("c5", "ticket:2024-03-31"),
            ("c7", "ticket:2024-03-12"),
        },
        details={
            ("c1", "ticket:2024-03-20"): {
                "unresolved_complaints": 2,
                "first_opened_at": "2024-03-10T00:00:00Z",
                "latest_opened_at": "2024-03-20T00:00:00Z",
                "category": None,
            },
            ("c7", "ticket:2024-03-12"): {"unresolved_complaints": 3},
        },
    ),
    Case(
        "ticket-category",
        "ticket",
        {"category": "billing"},
        {"tickets": TICKETS},
        {("c7", "ticket:2024-03-11")},
        details={("c7", "ticket:2024-03-11"): {"unresolved_complaints": 2, "category": "billing"}},
    ),
    Case("ticket-three", "ticket", {"min_unresolved": 3}, {"tickets": TICKETS}, {("c7", "ticket:2024-03-12")}),
    # survey: detractors c1 (twice) and c5 (a microsecond inside the window); c3 on its open end; c4 a CSAT
    # answer; c6 no score; c8 after as_of.
    Case(
        "survey-detractor",
        "survey",
        {"group": "detractor"},
        {"feedback": FEEDBACK},
        {
            ("c1", "survey:2024-03-31T09:00:00Z"),
            ("c1", "survey:2024-03-31T11:00:00Z"),
            ("c5", "survey:2024-03-30T12:00:00.000001Z"),
        },
        details={
            ("c1", "survey:2024-03-31T09:00:00Z"): {
                "survey": "nps",
                "group": "detractor",
                "score": 6,
                "reason": "price",
                "comment": 'Too "slow" \\ sorry',
            }
        },
    ),
    Case(
        "survey-passive",
        "survey",
        {"group": "passive"},
        {"feedback": FEEDBACK},
        {("c2", "survey:2024-03-31T09:00:00Z")},
    ),
    Case(
        "survey-promoter",
        "survey",
        {"group": "promoter"},
        {"feedback": FEEDBACK},
        {("c7", "survey:2024-03-31T12:00:00Z")},
        details={("c7", "survey:2024-03-31T12:00:00Z"): {"score": 10, "comment": "Love it", "reason": None}},
    ),
    # churned: c1 ended in the window (its old order does not make it a shop customer), c2 on the window's open
    # end, c3 a microsecond inside, c4 changed plan, c5 paused, c6 ends after as_of, c7 restarted and ended
    # again, c8's last period never ran; shops: c20 and c24 (a later canceled order does not count) 180 days
    # after their last order, c21 on the open end, c22 at as_of, c23 a microsecond after it.
    Case(
        "churned",
        "churned",
        {},
        CHURN,
        {
            ("c1", "churned:2024-03-15"),
            ("c3", "churned:2024-03-01"),
            ("c7", "churned:2024-03-20"),
            ("c20", "churned:2024-03-18"),
            ("c22", "churned:2024-03-31"),
            ("c24", "churned:2024-03-18"),
        },
        details={
            ("c1", "churned:2024-03-15"): {
                "churned_at": "2024-03-15T00:00:00Z",
                "cancel_reason": "price",
                "churn_type": "voluntary",
                "last_order_at": None,
            },
            ("c7", "churned:2024-03-20"): {"cancel_reason": "missing_feature"},
            ("c20", "churned:2024-03-18"): {
                "churned_at": "2024-03-18T10:00:00Z",
                "cancel_reason": None,
                "last_order_at": "2023-09-20T10:00:00Z",
            },
        },
    ),
    Case("churned-price", "churned", {"reason": "price"}, CHURN, {("c1", "churned:2024-03-15")}),
    Case(
        "churned-payment-failed",
        "churned",
        {"reason": "payment_failed"},
        CHURN,
        {("c3", "churned:2024-03-01")},
        details={("c3", "churned:2024-03-01"): {"churn_type": "involuntary"}},
    ),
]


def build_workspace(root: Path, tables: dict[str, str]) -> Workspace:
    """A workspace holding ``tables`` (name → CSV text), every row accepted."""
    ws = Workspace.init(root / "ws", clock=FixedClock(datetime(2024, 5, 1, tzinfo=UTC)))
    for name, text in tables.items():
        path = root / f"{name}.csv"
        path.write_text(text)
        outcome = ws.ingest(name, path)
        assert outcome.rows_rejected == 0, (name, outcome)
    return ws


def _types(rows: list[dict[str, Any]]) -> pa.Schema:
    return pa.schema([pa.field(name, PROFILE[name].type.arrow) for name in rows[0]])


def to_table(backend: ibis.BaseBackend, table: pa.Table, folder: Path) -> ibis.Table:
    """``table`` on ``backend``: a memtable on DuckDB; on Spark read from Parquet, as the marts are (memtables go
    through pandas there, which turns a missing string into the text "NaN")."""
    if backend.name != "pyspark":
        return ibis.memtable(table)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"t{len(list(folder.iterdir()))}.parquet"
    pq.write_table(table, path)
    return backend.read_parquet(path)


def case_inputs(case: Case, ws: Workspace, backend: ibis.BaseBackend, folder: Path) -> TriggerInputs:
    def profile(rows):
        return None if rows is None else to_table(backend, pa.Table.from_pylist(rows, schema=_types(rows)), folder)

    def members(pairs):
        if pairs is None:
            return None
        data = pa.table({"customer_id": [c for c, _ in pairs], "segment": [s for _, s in pairs]})
        return to_table(backend, data, folder)

    return TriggerInputs(
        facts=Facts(backend, ws.lake.view()),
        as_of=case.as_of,
        profile=profile(case.profile),
        previous_profile=profile(case.previous_profile),
        segments=members(case.segments),
        previous_segments=members(case.previous_segments),
    )


def run_case(case: Case, ws: Workspace, root: Path, backend: ibis.BaseBackend | None = None) -> None:
    """Evaluate ``case`` on ``ws`` (holding ``case.tables``) with ``backend`` (default the workspace's DuckDB) and
    check it against its expectations."""
    inputs = case_inputs(case, ws, backend or ws.backend, root / "inputs")
    frame = evaluate_trigger(case.kind, inputs, case.params)
    assert list(frame.columns) == ["customer_id", "trigger_key", "fired_at", "detail"]
    got = list(zip(frame.customer_id, frame.trigger_key, strict=True))
    assert len(got) == len(set(got)), f"duplicate entries: {got}"
    assert set(got) == case.expected
    details = {key: json.loads(text) for key, text in zip(got, frame.detail, strict=True)}
    for key, expected in case.details.items():
        assert {k: details[key].get(k, "<absent>") for k in expected} == expected, key
    for fired in frame.fired_at:
        assert fired.tzinfo is not None and fired <= case.as_of
