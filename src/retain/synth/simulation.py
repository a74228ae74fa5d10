"""The month-by-month behaviour shared by both business models: engagement, support, surveys and churn.

One :class:`ChunkSimulation` runs a chunk of customers through every month of the window with arrays of
shape ``(customers,)`` per month; the business models subclass it and add billing or purchases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retain.contract.taxonomy import ReasonCode
from retain.synth import arrow
from retain.synth.calendar import Calendar
from retain.synth.params import HazardCoefficients
from retain.synth.population import Population
from retain.synth.records import SURVEYS, Records

__all__ = ["GROUND_TRUTH_SCHEMA", "ChunkSimulation", "MonthFrame", "expand"]

_DAY = 86_400
_MONTH = 30.4375 * _DAY
_NPS, _CSAT = (int(np.flatnonzero(name == SURVEYS)[0]) for name in ("nps", "csat"))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def expand(rng: np.random.Generator, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Per-customer ``counts`` → (customer index, time) of each item, times uniform in ``[lo, hi)``."""
    cust = np.repeat(np.arange(len(counts)), counts)
    at = lo[cust] + (rng.random(len(cust)) * (hi[cust] - lo[cust])).astype(np.int64)
    return cust, at


@dataclass
class MonthFrame:
    """What the shared loop knows about month ``m`` when it calls the model hooks (arrays over customers)."""

    m: int
    alive: np.ndarray
    """Customer exists and has not churned before this month."""
    new: np.ndarray
    """Signed up this month."""
    tenure: np.ndarray
    """Whole months since the sign-up month."""
    engagement: np.ndarray
    lo: np.ndarray
    """Start of the customer's activity in this month (month start or sign-up)."""
    hi: np.ndarray
    """End of the customer's activity in this month (month end, window end or churn time)."""
    exposure: np.ndarray
    """(hi - lo) / average month length; 0 when not alive."""
    churn: np.ndarray
    voluntary: np.ndarray
    involuntary: np.ndarray


class ChunkSimulation:
    """Shared monthly simulation of one chunk. Subclasses implement the ``_model_*`` hooks.

    Parameters
    ----------
    rng : np.random.Generator
        Randomness of this chunk only.
    cal : Calendar
        The window.
    pop : Population
        The chunk's customers.
    coef : HazardCoefficients
        Churn hazard coefficients.
    """

    ticket_categories: np.ndarray = np.array(["billing", "technical", "account", "how_to", "bug"])
    activity_scale: float = 1.0

    def __init__(self, rng: np.random.Generator, cal: Calendar, pop: Population, coef: HazardCoefficients) -> None:
        self.rng, self.cal, self.pop, self.coef = rng, cal, pop, coef
        n, months = pop.n, cal.months
        self.starts, self.ends = cal.starts, cal.ends
        self.records = Records()
        self.p_churn = np.zeros((n, months))
        self.in_window = np.zeros((n, months), dtype=bool)
        self.churned = np.zeros((n, months), dtype=bool)
        self.involuntary = np.zeros((n, months), dtype=bool)
        self.driver = np.full((n, months), -1, dtype=np.int64)
        """Index into ``DRIVERS`` of the largest observable term of each customer-month's hazard (-1: none)."""
        self.activity = np.zeros((n, months))
        """Observed activity rate per month (events per month of exposure), what ``usage_drop`` reads."""
        self.complaints_opened = np.zeros((n, months), dtype=np.int64)
        self.complaints_resolved = np.zeros((n, months + 1), dtype=np.int64)
        self.unresolved = np.zeros(n, dtype=np.int64)
        self.latest_nps = np.full(n, -1, dtype=np.int64)
        self.dead = np.zeros(n, dtype=bool)
        self.churn_at = np.full(n, -1, dtype=np.int64)
        self.engagement = np.zeros(n)
        self._mu = pop.engagement_mean.copy()
        self._declining = np.zeros(n, dtype=bool)

    # --- hooks ---------------------------------------------------------------------------------------------

    def _model_terms(self, m: int, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(voluntary log-odds added by the model, involuntary log-odds added on top)."""
        raise NotImplementedError

    def _model_driver_terms(self, m: int) -> dict[ReasonCode, np.ndarray]:
        """The model's observable hazard terms by the reason code a person would give them (see ``DRIVERS``)."""
        raise NotImplementedError

    def _model_involuntary_time(self, m: int) -> np.ndarray:
        """When an involuntary churn in month ``m`` happens, per customer."""
        raise NotImplementedError

    def _model_activity(self, f: MonthFrame) -> np.ndarray:
        """Emit the model's activity for the month; return the activity count per customer."""
        raise NotImplementedError

    def _model_after(self, f: MonthFrame) -> None:
        """Model state changes after the month's activity (billing, plan changes, exit surveys)."""

    def _model_ticket_rate(self, m: int) -> np.ndarray:
        return np.zeros(self.pop.n)

    # --- loop ----------------------------------------------------------------------------------------------

    def _react(self, m: int, alive: np.ndarray, p_vol: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The month's hazards after outside influences, just before the churn draw (none here: the closed-loop
        simulation multiplies them by the reactions to what retain sent; :mod:`retain.synth.closed_loop`)."""
        return p_vol, p

    def _record_draws(self, m: int, u: np.ndarray, t_vol: np.ndarray, t_invol: np.ndarray) -> None:
        """The month's churn uniform and churn times per customer, whoever churns (kept by the closed loop to
        replay the month without a message: common random numbers)."""

    def run(self) -> ChunkSimulation:
        """Simulate every month of the window; returns ``self``."""
        for m in range(self.cal.months):
            self.step(m)
        return self

    def step(self, m: int) -> None:
        """Simulate month ``m`` (months must be stepped in order, from 0)."""
        self._month(m)

    def _step_engagement(self, m: int, alive: np.ndarray, new: np.ndarray) -> None:
        rng, n = self.rng, self.pop.n
        eps = rng.normal(0.0, 1.0, n)
        # A few customers per month enter a lasting decline: their engagement level drifts down from then on.
        self._declining |= alive & ~new & (rng.random(n) < 0.02)
        self._mu = np.where(self._declining & alive, np.maximum(self._mu - 0.3, -3.0), self._mu)
        ar1 = self._mu + 0.7 * (self.engagement - self._mu) + 0.35 * eps
        self.engagement = np.where(new, self.pop.engagement_mean + 0.4 * eps, ar1)

    def _usage_trend(self, m: int, tenure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.pop.n
        if m < 2:
            last = self.activity[:, m - 1] if m == 1 else np.zeros(n)
            return np.zeros(n), (tenure >= 1) & (last == 0)
        last = self.activity[:, m - 1]
        before = np.where(tenure >= 3, self.activity[:, max(m - 3, 0)] + self.activity[:, m - 2], 0.0)
        before = np.where(tenure >= 3, before / 2, self.activity[:, m - 2])
        trend = np.where(tenure >= 2, np.log1p(last) - np.log1p(before), 0.0)
        return trend, (tenure >= 1) & (last == 0)

    def _hazard(self, m: int, alive: np.ndarray, tenure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, rng, n = self.coef, self.rng, self.pop.n
        self._model_driver_terms_now = self._model_driver_terms(m)
        trend, inactive = self._usage_trend(m, tenure)
        recent = self.complaints_opened[:, m - 1] if m >= 1 else np.zeros(n)
        nps = self.latest_nps
        lp = (
            c.intercept
            + c.new_customer * (tenure < 3)
            + c.usage_drop * np.maximum(0.0, -trend)
            + c.inactive * inactive
            + c.unresolved_complaint * np.minimum(self.unresolved, 3)
            + c.recent_complaint * np.minimum(recent, 2)
            + c.low_nps * np.where(nps >= 0, np.maximum(0, 8 - nps) / 8, 0.0)
            + c.frailty * self.pop.frailty
            + c.engagement * self.engagement
            + c.noise * rng.normal(0.0, 1.0, n)
        )
        vol, invol = self._model_terms(m, alive)
        self._latest_driver = self._driver(self._common_driver_terms(tenure, trend, inactive, recent, nps))
        return _sigmoid(lp + vol), _sigmoid(lp + vol + invol)

    def _common_driver_terms(
        self, tenure: np.ndarray, trend: np.ndarray, inactive: np.ndarray, recent: np.ndarray, nps: np.ndarray
    ) -> dict[ReasonCode, np.ndarray]:
        """The observable terms every business model shares, grouped by reason code (same values as the hazard).

        The latent engagement level counts as disengagement (it shows in the activity the customer emits); the
        frailty draw, the intercept and the monthly noise are nobody's reason.
        """
        c = self.coef
        return {
            ReasonCode.EARLY_LIFE: c.new_customer * (tenure < 3),
            ReasonCode.DISENGAGED: c.usage_drop * np.maximum(0.0, -trend)
            + c.inactive * inactive
            + c.engagement * self.engagement,
            ReasonCode.POOR_SERVICE: c.unresolved_complaint * np.minimum(self.unresolved, 3)
            + c.recent_complaint * np.minimum(recent, 2),
            ReasonCode.DISSATISFIED: c.low_nps * np.where(nps >= 0, np.maximum(0, 8 - nps) / 8, 0.0),
        }

    def _driver(self, common: dict[ReasonCode, np.ndarray]) -> np.ndarray:
        """Per customer, the index in ``DRIVERS`` of the code whose terms add the most risk (-1 if none adds any)."""
        terms = {**common}
        for code, values in self._model_driver_terms_now.items():
            terms[code] = terms.get(code, 0.0) + values
        stacked = np.stack([np.broadcast_to(terms.get(code, 0.0), self.pop.n) for code in DRIVERS], axis=1)
        best = stacked.argmax(axis=1)
        return np.where(stacked.max(axis=1) > 0, best, -1)

    def _month(self, m: int) -> None:
        rng, pop, n = self.rng, self.pop, self.pop.n
        alive = (pop.signup_month <= m) & ~self.dead
        new = pop.signup_month == m
        tenure = m - pop.signup_month
        self._step_engagement(m, alive, new)

        p_vol, p = self._react(m, alive, *self._hazard(m, alive, tenure))
        u = rng.random(n)
        # One uniform decides both: churn if u < p; voluntary if u < p_vol <= p, so P(involuntary | churn) =
        # (p - p_vol) / p, the share of the hazard the failed payments add.
        churn = alive & (u < p)
        voluntary = churn & (u < p_vol)
        involuntary = churn & ~voluntary
        self.in_window[:, m] = alive
        self.p_churn[:, m] = np.where(alive, p, 0.0)
        self.driver[:, m] = np.where(alive, self._latest_driver, -1)
        self.churned[:, m] = churn
        self.involuntary[:, m] = involuntary

        lo = np.maximum(self.starts[m], pop.signup_at)
        end = np.full(n, self.ends[m])
        t_vol = lo + (rng.random(n) * (end - lo)).astype(np.int64)
        t_invol = self._model_involuntary_time(m)
        self._record_draws(m, u, t_vol, t_invol)
        t_churn = np.where(involuntary, t_invol, t_vol)
        hi = np.where(churn, t_churn, end)
        hi = np.where(alive, np.maximum(hi, lo), lo)
        self.churn_at = np.where(churn, hi, self.churn_at)
        exposure = (hi - lo) / _MONTH
        frame = MonthFrame(m, alive, new, tenure, self.engagement, lo, hi, exposure, churn, voluntary, involuntary)

        count = self._model_activity(frame)
        self.activity[:, m] = np.where(alive, count / np.maximum(exposure, 0.5), 0.0)
        self._support(frame)
        self._surveys(frame)
        self._model_after(frame)
        self.unresolved += self.complaints_opened[:, m] - self.complaints_resolved[:, m]
        self.dead |= churn

    def _support(self, f: MonthFrame) -> None:
        rng, e = self.rng, f.engagement
        rate = f.exposure * (0.05 * np.exp(-0.6 * e) + self._model_ticket_rate(f.m))
        cust, opened = expand(rng, rng.poisson(np.where(f.alive, rate, 0.0)), f.lo, f.hi)
        k, ek = len(cust), e[cust]
        complaint = rng.random(k) < _sigmoid(-1.2 - 0.9 * ek)
        never = rng.random(k) < np.where(complaint, 0.2, 0.05)
        delay = 600 + rng.exponential(np.where(complaint, 3.0, 1.0) * _DAY, k).astype(np.int64)
        resolved = opened + delay
        is_open = never | (resolved >= self.cal.window_end)
        resolved = np.where(is_open, -1, resolved)
        rated = ~is_open & (rng.random(k) < 0.45)
        sat = np.clip(
            np.rint(3.8 + 0.5 * ek - 1.3 * complaint - 0.4 * (delay > 3 * _DAY) + rng.normal(0, 0.8, k)), 1, 5
        )
        prio = np.where(
            complaint,
            rng.choice(4, size=k, p=[0.0, 0.4, 0.45, 0.15]),
            rng.choice(4, size=k, p=[0.35, 0.5, 0.15, 0.0]),
        )
        self.records.add_tickets(
            cust=cust,
            opened=opened,
            resolved=resolved,
            category=rng.integers(0, len(self.ticket_categories), k),
            priority=prio,
            complaint=complaint,
            satisfaction=np.where(rated, sat, 0).astype(np.int64),
        )
        np.add.at(self.complaints_opened[:, f.m], cust[complaint], 1)
        res_month = np.where(is_open, self.cal.months, np.searchsorted(self.starts, resolved, side="right") - 1)
        np.add.at(self.complaints_resolved, (cust[complaint], res_month[complaint]), 1)

    def _surveys(self, f: MonthFrame) -> None:
        rng, e, n = self.rng, f.engagement, self.pop.n
        complaints = self.complaints_opened[:, f.m]
        # NPS: about one customer in eleven answers each month.
        nps = f.alive & (f.hi > f.lo) & (rng.random(n) < 0.09)
        score = np.clip(
            np.rint(7.3 + 1.7 * e - 0.9 * np.minimum(self.unresolved, 3) - 0.6 * complaints + rng.normal(0, 1.3, n)),
            0,
            10,
        ).astype(np.int64)
        idx = np.flatnonzero(nps)
        at = f.lo[idx] + (rng.random(len(idx)) * (f.hi[idx] - f.lo[idx])).astype(np.int64)
        self.records.add_feedback(idx, _NPS, score[idx], -1, -1, at)
        self.latest_nps = np.where(nps, score, self.latest_nps)
        # CSAT: occasional in-app survey, 1-5.
        csat = f.alive & (f.hi > f.lo) & (rng.random(n) < 0.04)
        cscore = np.clip(np.rint(3.9 + 0.6 * e - 0.8 * np.minimum(complaints, 2) + rng.normal(0, 0.8, n)), 1, 5)
        idx = np.flatnonzero(csat)
        at = f.lo[idx] + (rng.random(len(idx)) * (f.hi[idx] - f.lo[idx])).astype(np.int64)
        self.records.add_feedback(idx, _CSAT, cscore[idx].astype(np.int64), -1, -1, at)

    # --- output --------------------------------------------------------------------------------------------

    def ground_truth(self) -> pa.Table:
        """One row per customer per month in the window while alive (sorted by customer, month)."""
        cust, m = np.nonzero(self.in_window)
        months = np.array(self.cal.first_days, dtype="datetime64[D]")
        churned = self.churned[cust, m]
        ctype = np.where(self.involuntary[cust, m], 2, np.where(churned, 1, 0))
        driver = self.driver[cust, m]
        return pa.table(
            {
                "customer_id": arrow.ids("C", self.pop.number[cust], 7),
                "month": pa.array(months[m], pa.date32()),
                "p_churn": pa.array(self.p_churn[cust, m], pa.float64()),
                "churned": pa.array(churned),
                "churn_type": arrow.labels(["", "voluntary", "involuntary"], ctype, null=ctype == 0),
                "driver": arrow.labels([str(code) for code in DRIVERS], np.maximum(driver, 0), null=driver < 0),
            },
            schema=GROUND_TRUTH_SCHEMA,
        )


GROUND_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("month", pa.date32(), nullable=False),
        pa.field("p_churn", pa.float64(), nullable=False),
        pa.field("churned", pa.bool_(), nullable=False),
        pa.field("churn_type", pa.string()),
        pa.field("driver", pa.string()),
    ]
)
"""Schema of ``ground_truth/churn_probability``. ``driver`` is the reason code (``retain.contract.taxonomy``) of
the largest observable term of the month's true hazard — what an explanation of the customer's risk should name
first — or null when no observable term adds risk."""

DRIVERS: tuple[ReasonCode, ...] = (
    ReasonCode.PAYMENT_FAILED,
    ReasonCode.POOR_SERVICE,
    ReasonCode.DISSATISFIED,
    ReasonCode.DISENGAGED,
    ReasonCode.EARLY_LIFE,
    ReasonCode.PRICE,
    ReasonCode.NO_LONGER_NEEDED,
    ReasonCode.PRODUCT_QUALITY,
)
"""The reason codes a synthetic hazard term can be attributed to (ties go to the first listed)."""
