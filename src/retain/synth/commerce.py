"""The ``commerce`` model: a non-contractual shop whose customers silently stop buying."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.contract.tables import TableName
from retain.contract.taxonomy import ReasonCode
from retain.synth.calendar import Calendar
from retain.synth.params import HazardCoefficients
from retain.synth.population import Population
from retain.synth.records import PROP_CAMPAIGN, PROP_PAGE, PROP_RATING
from retain.synth.records import event_code as _code
from retain.synth.simulation import ChunkSimulation, MonthFrame, expand

__all__ = ["CommerceSimulation"]

_VIEW, _OPEN, _CLICK, _REVIEW, _REFERRAL = (_code(t) for t in
    ("page_view", "email_open", "email_click", "review", "referral"))  # fmt: skip
_SEASON = np.array([0.9, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.45, 1.8])
"""Purchase-rate multiplier per calendar month (Black Friday and Christmas)."""
_DISCOUNTS = np.array(["WELCOME10", "BDAY15", "XMAS20", "SPRING5"])
_CHANNELS = np.array(["web", "app", "store"])


class CommerceSimulation(ChunkSimulation):
    """A web shop: Poisson purchases driven by engagement, seasonality and birthdays; churn is a silent dropout."""

    tables = (TableName.CUSTOMERS, TableName.ORDERS, TableName.EVENTS, TableName.TICKETS, TableName.FEEDBACK)
    ticket_categories = np.array(["delivery", "returns", "payment", "product", "account"])

    def __init__(self, rng: np.random.Generator, cal: Calendar, pop: Population, coef: HazardCoefficients) -> None:
        super().__init__(rng, cal, pop, coef)
        n = pop.n
        self.order_rate = rng.gamma(2.0, 0.2, n)
        """Baseline orders per month (mean 0.4), heterogeneous across customers."""
        self.amount_mu = rng.normal(np.log(45.0), 0.35, n)
        self.bad_order = np.zeros((n, cal.months), dtype=bool)
        self.orders_so_far = np.zeros(n, dtype=np.int64)

    def _model_terms(self, m: int, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad = self.bad_order[:, m - 1] if m >= 1 else np.zeros(self.pop.n, dtype=bool)
        return self.coef.bad_order * bad, np.zeros(self.pop.n)

    def _model_driver_terms(self, m: int) -> dict[ReasonCode, np.ndarray]:
        bad = self.bad_order[:, m - 1] if m >= 1 else np.zeros(self.pop.n, dtype=bool)
        return {ReasonCode.PRODUCT_QUALITY: self.coef.bad_order * bad}

    def _model_involuntary_time(self, m: int) -> np.ndarray:
        return np.full(self.pop.n, self.starts[m])  # never used: commerce has no involuntary term

    def _model_ticket_rate(self, m: int) -> np.ndarray:
        return 0.15 * self.bad_order[:, m - 1] if m >= 1 else np.zeros(self.pop.n)

    def _model_activity(self, f: MonthFrame) -> np.ndarray:
        rng, e, rec, pop = self.rng, f.engagement, self.records, self.pop
        x = np.where(f.alive, f.exposure, 0.0)
        moy = self.cal.month_of_year[f.m]
        birthday = pop.birth_month == moy
        views = rng.poisson(x * np.exp(1.3 + 0.9 * e))
        opens = rng.poisson(x * 1.2 * np.exp(0.3 * e))
        clicks = rng.binomial(opens, np.clip(0.15 * np.exp(0.4 * e), 0, 0.9))
        buys = rng.poisson(x * self.order_rate * np.exp(0.7 * e) * _SEASON[moy - 1] * np.where(birthday, 1.6, 1.0))
        cust, at = expand(rng, views, f.lo, f.hi)
        rec.add_events(cust, _VIEW, at, PROP_PAGE + rng.integers(0, 6, len(cust)))
        for etype, counts in ((_OPEN, opens), (_CLICK, clicks)):
            cust, at = expand(rng, counts, f.lo, f.hi)
            rec.add_events(cust, etype, at, PROP_CAMPAIGN + rng.integers(0, 4, len(cust)))
        cust, at = expand(rng, rng.poisson(x * 0.01 * np.exp(e)), f.lo, f.hi)
        rec.add_events(cust, _REFERRAL, at, -1)

        cust, at = expand(rng, buys, f.lo, f.hi)
        k = len(cust)
        amount = np.exp(rng.normal(self.amount_mu[cust], 0.5))
        u = rng.random(k)
        status = np.where(u < 0.03, 1, np.where(u < 0.05, 2, 0))
        discount = np.select(
            [
                self.orders_so_far[cust] == 0,
                birthday[cust] & (rng.random(k) < 0.4),
                (moy >= 11) & (rng.random(k) < 0.25),
                rng.random(k) < 0.05,
            ],
            [0, 1, 2, 3],
            -1,
        )
        discount = np.where((discount == 0) & (rng.random(k) < 0.7), -1, discount)
        rec.add_orders(
            cust,
            at,
            np.where(status == 1, -amount, amount),
            status,
            1 + rng.poisson(amount / 50.0),
            discount,
            rng.choice(3, k, p=[0.6, 0.3, 0.1]),
        )
        np.add.at(self.orders_so_far, cust, 1)
        np.logical_or.at(self.bad_order[:, f.m], cust[status > 0], True)
        reviewed = (status == 0) & (rng.random(k) < 0.12)
        rating = np.clip(np.rint(4.0 + 0.6 * e[cust] + rng.normal(0, 0.9, k)), 1, 5).astype(np.int64)
        review_at = np.minimum(at + rng.integers(3600, 10 * 86_400, k), f.hi[cust] - 1)
        review_at = np.maximum(review_at, at)
        rec.add_events(cust[reviewed], _REVIEW, review_at[reviewed], PROP_RATING + rating[reviewed] - 1)
        return views + buys

    def fact_tables(self, first_ids: dict[str, int]) -> dict[TableName, pa.Table]:
        """The chunk's fact tables (customers excluded) with ids numbered from ``first_ids``."""
        rec, num = self.records, self.pop.number
        return {
            TableName.ORDERS: rec.orders_table(num, first_ids["orders"], _DISCOUNTS, _CHANNELS),
            TableName.EVENTS: rec.events_table(num, first_ids["events"]),
            TableName.TICKETS: rec.tickets_table(num, first_ids["tickets"], self.ticket_categories),
            TableName.FEEDBACK: rec.feedback_table(num, first_ids["feedback"]),
        }
