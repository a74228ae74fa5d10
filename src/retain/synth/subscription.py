"""The ``subscription`` model: plans, billing, plan changes, pauses, voluntary and involuntary churn."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.contract.tables import TableName
from retain.contract.taxonomy import ReasonCode
from retain.synth.calendar import Calendar
from retain.synth.params import (
    ANNUAL_FACTOR,
    ANNUAL_SHARE,
    FEATURE_WEIGHTS,
    PLAN_MRR,
    PLAN_WEIGHTS,
    PLANS,
    REASON_BASE,
    REASONS,
    HazardCoefficients,
)
from retain.synth.population import Population
from retain.synth.records import PROP_CAMPAIGN, PROP_FEATURE, SURVEYS
from retain.synth.records import event_code as _code
from retain.synth.simulation import ChunkSimulation, MonthFrame, expand

__all__ = ["SubscriptionSimulation"]

_DAY = 86_400
_LOGIN, _FEATURE, _OPEN, _CLICK, _FAILED = (_code(t) for t in
    ("login", "feature_used", "email_open", "email_click", "payment_failed"))  # fmt: skip
_ACTIVE, _PAUSED, _CANCELED = 0, 1, 2
_EXIT = int(np.flatnonzero(SURVEYS == "exit")[0])
_REASON = {r: i for i, r in enumerate(REASONS)}
_ADDONS = np.array([29.0, 99.0, 249.0])


class SubscriptionSimulation(ChunkSimulation):
    """A SaaS company: one subscription per customer, a row per period at a constant price."""

    tables = (
        TableName.CUSTOMERS,
        TableName.SUBSCRIPTIONS,
        TableName.EVENTS,
        TableName.TICKETS,
        TableName.FEEDBACK,
        TableName.ORDERS,
    )

    def __init__(self, rng: np.random.Generator, cal: Calendar, pop: Population, coef: HazardCoefficients) -> None:
        super().__init__(rng, cal, pop, coef)
        n = pop.n
        # Better-engaged customers start on bigger plans a little more often.
        u = rng.random(n) - 0.08 * pop.engagement_mean
        self.plan = np.searchsorted(np.cumsum(PLAN_WEIGHTS), np.clip(u, 0, 0.999999))
        self.annual = rng.random(n) < ANNUAL_SHARE
        self.card_risk = np.where(rng.random(n) < 0.15, 0.12, 0.012)
        self.paused_until = np.full(n, -1, dtype=np.int64)
        self.failed = np.zeros((n, cal.months), dtype=np.int64)
        self.seg_start = pop.signup_at.copy()
        self.seg_plan = self.plan.copy()
        self.seg_paused = np.zeros(n, dtype=bool)

    # --- hazard --------------------------------------------------------------------------------------------

    def _mrr(self, plan: np.ndarray, annual: np.ndarray) -> np.ndarray:
        return np.round(PLAN_MRR[plan] * np.where(annual, ANNUAL_FACTOR, 1.0), 2)

    def _model_terms(self, m: int, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.coef
        vol = (
            c.price * np.log(self._mrr(self.plan, self.annual) / 49.0)
            + c.annual * self.annual
            + c.paused * self.seg_paused
        )
        failed = self.failed[:, m - 1] if m >= 1 else np.zeros(self.pop.n, dtype=np.int64)
        invol = np.where(failed > 0, c.failed_payment + c.failed_payment_repeat * (failed - 1), 0.0)
        return vol, invol

    def _model_driver_terms(self, m: int) -> dict[ReasonCode, np.ndarray]:
        c = self.coef
        failed = self.failed[:, m - 1] if m >= 1 else np.zeros(self.pop.n, dtype=np.int64)
        return {
            ReasonCode.PRICE: c.price * np.log(self._mrr(self.plan, self.annual) / 49.0) + c.annual * self.annual,
            ReasonCode.NO_LONGER_NEEDED: c.paused * self.seg_paused,
            ReasonCode.PAYMENT_FAILED: np.where(
                failed > 0, c.failed_payment + c.failed_payment_repeat * (failed - 1), 0.0
            ),
        }

    def _billing_time(self, m: int) -> np.ndarray:
        return self.starts[m] + self.pop.billing_offset

    def _model_involuntary_time(self, m: int) -> np.ndarray:
        # The last dunning retry fails at the renewal; the subscription is canceled an hour later.
        return np.minimum(self._billing_time(m), self.ends[m] - 2 * 3600) + 3600

    def _model_ticket_rate(self, m: int) -> np.ndarray:
        failed = self.failed[:, m - 1] if m >= 1 else 0
        return 0.25 * (failed > 0)

    # --- activity ------------------------------------------------------------------------------------------

    def _model_activity(self, f: MonthFrame) -> np.ndarray:
        rng, e, rec = self.rng, f.engagement, self.records
        x = np.where(f.alive, f.exposure, 0.0) * np.where(self.seg_paused, 0.1, 1.0)
        logins = rng.poisson(x * np.exp(1.0 + 0.9 * e))
        features = rng.poisson(x * np.exp(0.4 + 1.0 * e))
        opens = rng.poisson(np.where(f.alive, f.exposure, 0.0) * 0.9 * np.exp(0.3 * e))
        clicks = rng.binomial(opens, np.clip(0.2 * np.exp(0.4 * e), 0, 0.9))
        cust, at = expand(rng, logins, f.lo, f.hi)
        rec.add_events(cust, _LOGIN, at, -1)
        cust, at = expand(rng, features, f.lo, f.hi)
        rec.add_events(
            cust, _FEATURE, at, PROP_FEATURE + rng.choice(len(FEATURE_WEIGHTS), len(cust), p=FEATURE_WEIGHTS)
        )
        for etype, counts in ((_OPEN, opens), (_CLICK, clicks)):
            cust, at = expand(rng, counts, f.lo, f.hi)
            rec.add_events(cust, etype, at, PROP_CAMPAIGN + rng.integers(0, 4, len(cust)))
        # One-off add-on purchases.
        buys = rng.poisson(x * 0.015 * np.exp(0.5 * e))
        cust, at = expand(rng, buys, f.lo, f.hi)
        k = len(cust)
        status = np.where(rng.random(k) < 0.04, 1, 0)
        amount = _ADDONS[rng.choice(3, k, p=[0.6, 0.3, 0.1])]
        rec.add_orders(cust, at, np.where(status == 1, -amount, amount), status, np.ones(k), -1, 0)
        return logins + features

    # --- state changes -------------------------------------------------------------------------------------

    def _close(self, idx: np.ndarray, at: np.ndarray, status, reason, churn_type) -> None:
        n = len(idx)
        paused = self.seg_paused[idx]
        self.records.add_subscriptions(
            idx,
            self.seg_plan[idx],
            np.where(paused, 0.0, self._mrr(self.seg_plan[idx], self.annual[idx])),
            self.seg_start[idx],
            at,
            np.broadcast_to(status, n),
            np.broadcast_to(reason, n),
            np.broadcast_to(churn_type, n),
            np.where(self.annual[idx], 12, 1),
        )

    def _open(self, idx: np.ndarray, at: np.ndarray, plan: np.ndarray, paused: bool) -> None:
        self.seg_start[idx] = at
        self.seg_plan[idx] = plan
        self.plan[idx] = plan
        self.seg_paused[idx] = paused

    def _reasons(self, idx: np.ndarray) -> np.ndarray:
        rng = self.rng
        w = np.tile(np.array([REASON_BASE[r] for r in REASONS]), (len(idx), 1))
        w[:, _REASON["poor_service"]] += 0.5 * (self.unresolved[idx] > 0)
        w[:, _REASON["price"]] += 0.1 * self.plan[idx]
        w[:, _REASON["no_longer_needed"]] += 0.3 * (self.engagement[idx] < -0.5)
        cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        return np.minimum((cum < rng.random((len(idx), 1))).sum(axis=1), len(REASONS) - 1)

    def _model_after(self, f: MonthFrame) -> None:
        rng, m, n, rec = self.rng, f.m, self.pop.n, self.records
        # Churn: the running period ends with status canceled.
        vol = np.flatnonzero(f.voluntary)
        reasons = self._reasons(vol)
        self._close(vol, f.hi[vol], _CANCELED, reasons, 1)
        answered = rng.random(len(vol)) < 0.55
        comment = np.select(
            [reasons == _REASON["price"], reasons == _REASON["missing_feature"], reasons == _REASON["poor_service"]],
            [0, 1, 2],
            -1,
        )
        comment = np.where(rng.random(len(vol)) < 0.5, comment, -1)
        rec.add_feedback(vol[answered], _EXIT, np.full(answered.sum(), -1), reasons[answered], comment[answered],
                         f.hi[vol][answered])  # fmt: skip
        inv = np.flatnonzero(f.involuntary)
        self._close(inv, f.hi[inv], _CANCELED, _REASON["payment_failed"], 2)
        rec.add_events(inv, _FAILED, f.hi[inv] - 3600, -1)

        # Renewals of the survivors happen at the billing anniversary inside the month.
        bill = self._billing_time(m)
        ok = f.alive & ~f.churn & ~f.new & (bill < f.hi)
        resume = ok & self.seg_paused & (self.paused_until <= m)
        idx = np.flatnonzero(resume)
        self._close(idx, bill[idx], _PAUSED, -1, 0)
        self._open(idx, bill[idx], self.plan[idx], paused=False)

        due = ok & ~self.seg_paused & (~self.annual | (f.tenure % 12 == 0))
        fail = due & (rng.random(n) < self.card_risk)
        retry = fail & (rng.random(n) < 0.5) & (bill + 3 * _DAY < f.hi)
        self.failed[:, m] = fail.astype(np.int64) + retry
        idx = np.flatnonzero(fail)
        rec.add_events(idx, _FAILED, bill[idx], -1)
        idx = np.flatnonzero(retry)
        rec.add_events(idx, _FAILED, bill[idx] + 3 * _DAY, -1)

        e = f.engagement
        can_change = ok & ~self.annual & ~self.seg_paused & ~fail & ~resume  # one change per renewal
        up = can_change & (self.plan < 2) & (rng.random(n) < 0.012 * np.exp(0.8 * e))
        down = can_change & ~up & (self.plan > 0) & (rng.random(n) < 0.015 * np.exp(-0.8 * e))
        idx = np.flatnonzero(up | down)
        self._close(idx, bill[idx], _ACTIVE, -1, 0)
        self._open(idx, bill[idx], self.plan[idx] + np.where(up[idx], 1, -1), paused=False)

        pause = can_change & ~up & ~down & (rng.random(n) < 0.006 * np.exp(-0.5 * e))
        idx = np.flatnonzero(pause)
        self._close(idx, bill[idx], _ACTIVE, -1, 0)
        self._open(idx, bill[idx], self.plan[idx], paused=True)
        self.paused_until[idx] = m + rng.integers(1, 4, len(idx))

    def finish(self) -> None:
        """Write the running period of every customer still subscribed at the end of the window."""
        idx = np.flatnonzero(~self.dead)
        self._close(idx, np.full(len(idx), -1), np.where(self.seg_paused[idx], _PAUSED, _ACTIVE), -1, 0)

    def fact_tables(self, first_ids: dict[str, int]) -> dict[TableName, pa.Table]:
        """The chunk's fact tables (customers excluded) with ids numbered from ``first_ids``."""
        rec, num = self.records, self.pop.number
        self.finish()
        return {
            TableName.SUBSCRIPTIONS: rec.subscriptions_table(num, PLANS),
            TableName.EVENTS: rec.events_table(num, first_ids["events"]),
            TableName.TICKETS: rec.tickets_table(num, first_ids["tickets"], self.ticket_categories),
            TableName.FEEDBACK: rec.feedback_table(num, first_ids["feedback"]),
            TableName.ORDERS: rec.orders_table(num, first_ids["orders"], np.array(["ADDON10"]), np.array(["app"])),
        }
