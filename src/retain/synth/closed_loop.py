"""A synthetic company that an outside loop advances one month at a time, whose customers react to messages.

:class:`SyntheticCompany` runs the generator's simulation (:class:`~retain.synth.simulation.ChunkSimulation`) of
one chunk month by month: :meth:`~SyntheticCompany.step` simulates the next month, and
:meth:`~SyntheticCompany.known_until` returns what became known by any instant of it (new rows, and new versions
of rows that changed: a subscription period that ended, a ticket that was resolved — known open until then), so a
workspace can ingest the month week by week; :meth:`~SyntheticCompany.advance` is both, to the month's end.
:meth:`~SyntheticCompany.receive` takes the messages retain delivered, and the churn hazard of each receiver in the
next month simulated is multiplied by the playbook's reaction (:mod:`retain.synth.reactions`) before its draw.

**The hazard's time step is a calendar month** (the generator's own: its hazards, usage trends and billing are
monthly; a daily hazard would be a new generator). retain can run as often as wanted within a month — it sees the
facts so far — but a message acts on the next month whose churn draw is still to come: a message on the first of
a month acts on that month, one on the 8th acts on the month after. The issue asks for a day or a week; this is
a week (or a day) for retain and a month for the customers' churn decisions.

**Common random numbers.** Each month's churn uniform ``u`` and churn times are drawn for every customer,
whatever anyone received (the generator draws them anyway), and kept with the month's hazard before the
reactions. A customer churns in the month if ``u < p · M`` (``M``: the product of the month's reactions); without
playbook *P*'s messages the same customer would have churned if ``u < p · M / M_P``. Because reactions only lower
the hazard (``M_P <= 1``), whoever is alive without the message is alive in the simulated world too, so the world
without *P* is a replay of draws already made: :meth:`~SyntheticCompany.true_effects` computes, per enrolment, the
goal outcome with the message (what happened) and without it (the replay), exactly. Activity after a customer's
counterfactual churn is the simulated activity cut at that instant: the generator emits each month's activity as
a Poisson count spread uniformly over the customer's active time, so the part before an earlier churn is itself
the activity the shorter month would have had (a thinning coupling; same law, same draws).

One detail is defined rather than replayed: when a customer churns in the same month with and without the
message, the churn is the same event at the same instant in both worlds (the draw could otherwise switch between
a voluntary and an involuntary churn, which happen at different times of the month).

With ``reactions`` empty and the same seed, the company is the one ``retain synth`` generates as a single chunk
(``chunk_customers >= customers``): the same rows, emitted month by month (ids are numbered in emission order).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.tables import TableName
from retain.contract.taxonomy import ReasonCode
from retain.errors import InputError
from retain.synth.calendar import Calendar
from retain.synth.commerce import CommerceSimulation
from retain.synth.params import HazardCoefficients, SynthModel
from retain.synth.population import draw_population
from retain.synth.reactions import CustomerState, Reactions
from retain.synth.records import Records
from retain.synth.simulation import DRIVERS, ChunkSimulation
from retain.synth.subscription import SubscriptionSimulation

__all__ = ["EFFECT_COLUMNS", "SyntheticCompany"]

_DAY = 86_400
_SIMULATIONS: dict[SynthModel, type[ChunkSimulation]] = {
    SynthModel.SUBSCRIPTION: SubscriptionSimulation,
    SynthModel.COMMERCE: CommerceSimulation,
}
_ID_COUNTERS = ("events", "tickets", "feedback", "orders")
_DRIVER_NAMES = np.array([str(code) for code in DRIVERS] + [""])  # index -1 → ""

EFFECT_COLUMNS = (
    "playbook",
    "customer_id",
    "trigger_key",
    "arm",
    "enrolled_at",
    "goal_metric",
    "goal_window_days",
    "received",
    "y_with",
    "y_without",
    "effect",
)
"""Columns of :meth:`SyntheticCompany.true_effects`."""


class _ClosedLoop:
    """Mixed into a business model's simulation: the month's reactions before the churn draw, the draws kept."""

    reactions: Reactions
    inbox: dict[str, np.ndarray]
    """Playbook → indices of the customers who received one of its messages before the coming month."""

    def _closed_loop_init(self, reactions: Reactions) -> None:
        n, months = self.pop.n, self.cal.months
        self.reactions = reactions
        self.inbox = {}
        self.p_base = np.zeros((n, months))
        self.pvol_base = np.zeros((n, months))
        self.mult = np.ones((n, months))
        self.u = np.zeros((n, months))
        self.t_vol = np.zeros((n, months), dtype=np.int64)
        self.t_invol = np.zeros((n, months), dtype=np.int64)
        self.applied: list[tuple[str, np.ndarray, int, np.ndarray]] = []
        """(playbook, customers, month, multiplier) of every reaction that changed a hazard."""
        self.delivered: list[tuple[str, np.ndarray, int]] = []
        """(playbook, customers, month) of every message received, whether it changed anything or not."""

    def _react(self, m, alive, p_vol, p):
        self.p_base[:, m], self.pvol_base[:, m] = p, p_vol
        price = self._model_driver_terms_now.get(ReasonCode.PRICE)
        state = CustomerState(
            driver=_DRIVER_NAMES[self._latest_driver],
            price_sensitive=np.zeros(self.pop.n, dtype=bool) if price is None else np.asarray(price) > 0,
        )
        mult = np.ones(self.pop.n)
        for playbook, customers in sorted(self.inbox.items()):
            customers = np.unique(customers)  # several messages of one playbook in one month count once
            self.delivered.append((playbook, customers, m))
            reaction = self.reactions.get(playbook)
            if reaction is None:
                continue
            factor = reaction.multiplier(state, customers)
            mult[customers] *= factor
            self.applied.append((playbook, customers, m, factor))
        self.inbox = {}
        self.mult[:, m] = mult
        return p_vol * mult, p * mult

    def _record_draws(self, m, u, t_vol, t_invol):
        self.u[:, m], self.t_vol[:, m], self.t_invol[:, m] = u, t_vol, t_invol


def _closed_loop_class(model: SynthModel) -> type[ChunkSimulation]:
    base = _SIMULATIONS[model]
    return type(f"ClosedLoop{base.__name__}", (_ClosedLoop, base), {})


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _epoch_seconds(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values, utc=True)
    return (stamps.astype("int64") // _resolution(stamps)).to_numpy()


def _resolution(stamps: pd.Series) -> int:
    unit = np.datetime_data(stamps.dt.tz_localize(None).dtype)[0]
    return {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]


_VERSIONED: dict[TableName, tuple[str, str | None]] = {
    TableName.CUSTOMERS: ("created_at", None),
    TableName.EVENTS: ("occurred_at", None),
    TableName.ORDERS: ("ordered_at", None),
    TableName.FEEDBACK: ("responded_at", None),
    TableName.TICKETS: ("opened_at", "resolved_at"),
    TableName.SUBSCRIPTIONS: ("started_at", "ended_at"),
}
"""Per table: when a row becomes known, and when it changes (the open version holds until then)."""


def _open_version(name: TableName, rows: pa.Table) -> pa.Table:
    """Rows as known before they change: a ticket not resolved yet, a subscription period still running."""
    n = rows.num_rows

    def nulls(column: str) -> pa.Array:
        return pa.nulls(n, rows.schema.field(column).type)

    if name is TableName.TICKETS:
        changed = {"resolved_at": nulls("resolved_at"), "satisfaction": nulls("satisfaction")}
    else:  # a running period: paused periods are the ones billed 0 (every plan costs something)
        paused = pc.equal(rows["mrr"], 0.0)
        changed = {
            "ended_at": nulls("ended_at"),
            "status": pc.if_else(paused, "paused", "active"),
            "cancel_reason": nulls("cancel_reason"),
            "churn_type": nulls("churn_type"),
        }
    for column, values in changed.items():
        index = rows.schema.get_field_index(column)
        rows = rows.set_column(index, rows.schema.field(index), values)  # the same field: nullability kept
    return rows


def _known(name: TableName, rows: pa.Table, since: int, until: int) -> tuple[pa.Table, pa.Table]:
    """(rows to emit for the facts known in ``[since, until)``, rows still unsettled)."""
    born, changes = _VERSIONED[name]
    ts = rows.schema.field(born).type
    lo, hi = pa.scalar(_instant(since), ts), pa.scalar(_instant(until), ts)
    exists = pc.less(rows[born], hi)
    first = pc.and_(exists, pc.greater_equal(rows[born], lo))  # known for the first time now
    if changes is None:
        return rows.filter(first), rows.filter(pc.invert(exists))
    has_change = pc.is_valid(rows[changes])
    changed = pc.fill_null(pc.less(rows[changes], hi), False)
    final = pc.and_(exists, pc.or_(changed, pc.and_(first, pc.invert(has_change))))
    opened = pc.and_(first, pc.and_(has_change, pc.invert(changed)))
    # Rows known before `since` without a change are versions already emitted (a running period again).
    pending = pc.or_(pc.invert(exists), pc.and_(has_change, pc.invert(changed)))
    emit = pa.concat_tables([rows.filter(final), _open_version(name, rows.filter(opened))])
    return emit, rows.filter(pending)


class SyntheticCompany:
    """A synthetic company advanced a month at a time by an outside loop, its customers reacting to messages.

    Parameters
    ----------
    customers : int
        Number of customers (one chunk of the generator).
    model : SynthModel or str
        ``"subscription"`` or ``"commerce"``.
    seed : int
        Random seed (the stream of chunk 0 of ``retain synth --seed``).
    months : int
        Length of the whole window in calendar months, history included (the month of ``end`` is the last).
    reactions : Reactions
        How customers react to each playbook's messages.
    end : date
        Last day of the window.
    """

    def __init__(
        self,
        *,
        customers: int,
        model: SynthModel | str = SynthModel.SUBSCRIPTION,
        seed: int = 0,
        months: int = 18,
        reactions: Reactions | None = None,
        end: date = date(2025, 12, 31),
    ) -> None:
        if customers < 1:
            raise InputError(f"customers must be at least 1, got {customers}. Pass e.g. --customers 3000.")
        try:
            self.model = SynthModel(model)
        except ValueError:
            raise InputError(f"Unknown model {model!r}. Valid models: {', '.join(SynthModel)}.") from None
        self.cal = Calendar(end=end, months=months)
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        self.pop, self._customers = draw_population(rng, self.cal, 1, customers)
        self.sim = _closed_loop_class(self.model)(rng, self.cal, self.pop, HazardCoefficients())
        self.sim._closed_loop_init(reactions or Reactions())
        self.month = 0
        """The next month to simulate (0-based)."""
        self._next_id = dict.fromkeys(_ID_COUNTERS, 1)
        self._unsettled: dict[TableName, pa.Table] = {}
        """Per table: rows not yet known, or known open and changing later (periods that end, tickets resolved)."""
        self._cut = int(self.cal.starts[0])
        """Facts before this instant have been emitted (:meth:`known_until`)."""
        self._activity: dict[str, list[pa.Table]] = {"orders": [], "logins": []}

    # --- stepping --------------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Every month of the window has been simulated."""
        return self.month >= self.cal.months

    @property
    def as_of(self) -> datetime:
        """What is known: the start of the next month to simulate (the window's end once done)."""
        if self.done:
            return _instant(self.cal.window_end)
        return _instant(self.cal.starts[self.month])

    def customer_index(self, customer_ids: Iterable[str]) -> np.ndarray:
        """Indices into the chunk of ``C0000042``-style ids (unknown ids raise ``InputError``)."""
        ids = list(customer_ids)
        try:
            numbers = np.array([int(cid[1:]) for cid in ids], dtype=np.int64)
        except ValueError:
            raise InputError(f"Not a synthetic customer id among {ids[:3]}; expected e.g. C0000042.") from None
        index = numbers - int(self.pop.number[0])
        if len(index) and (index.min() < 0 or index.max() >= self.pop.n):
            raise InputError(f"Customer id outside this company ({self.pop.n} customers) among {ids[:3]}.")
        return index

    def receive(self, messages: Iterable[tuple[str, str]]) -> None:
        """Messages delivered at :attr:`as_of`, as ``(playbook, customer_id)``: the next month reacts to them."""
        by_playbook: dict[str, list[str]] = {}
        for playbook, customer_id in messages:
            by_playbook.setdefault(playbook, []).append(customer_id)
        for playbook, ids in by_playbook.items():
            index = self.customer_index(ids)
            previous = self.sim.inbox.get(playbook)
            self.sim.inbox[playbook] = index if previous is None else np.concatenate([previous, index])

    def advance(self, months: int = 1) -> dict[TableName, pa.Table]:
        """Simulate the next ``months`` months; the facts that became known by the end of the last, per table.

        Rows are new facts and new versions of facts that changed (same key): each table is ready to ingest as
        one batch. The customers table holds the customers who signed up meanwhile.
        """
        if months < 1 or self.month + months > self.cal.months:
            raise InputError(
                f"Cannot advance {months} month(s) from month {self.month} of {self.cal.months}; "
                f"{self.cal.months - self.month} remain."
            )
        parts: dict[TableName, list[pa.Table]] = {}
        for _ in range(months):
            self.step()
            for name, table in self.known_until(self.as_of).items():
                parts.setdefault(name, []).append(table)
        return {name: pa.concat_tables(tables) for name, tables in parts.items()}

    def step(self) -> None:
        """Simulate the next month (the reactions to what was received so far apply), emitting nothing yet:
        :meth:`known_until` then tells what became known by any instant of the month."""
        if self.done:
            raise InputError(f"Every month of the window ({self.cal.months}) has been simulated.")
        m, sim = self.month, self.sim
        sim.records = Records()  # this month's rows only
        sim.step(m)
        out = dict(sim.fact_tables(self._next_id))
        for name, table in out.items():
            if name.value in self._next_id:
                self._next_id[name.value] += table.num_rows
        if m == 0:
            out[TableName.CUSTOMERS] = self._customers
        if TableName.SUBSCRIPTIONS in out:  # running periods of customers who have not signed up yet are not facts
            subs = out[TableName.SUBSCRIPTIONS]
            out[TableName.SUBSCRIPTIONS] = subs.filter(pc.less(subs["started_at"], _instant(self.cal.ends[m])))
        self._keep_activity(out)
        for name, table in out.items():
            previous = self._unsettled.get(name)
            self._unsettled[name] = table if previous is None else pa.concat_tables([previous, table])
        self.month += 1

    def known_until(self, instant: datetime) -> dict[TableName, pa.Table]:
        """What became known since the previous call, up to ``instant`` (within the months simulated so far).

        A fact is known from its time on (``created_at``, ``opened_at`` …); a subscription period that ends or a
        ticket that is resolved later is known *open* until then (no end, no resolution, no satisfaction), and
        comes again, changed, in the call that passes that moment.
        """
        cut = int(instant.timestamp())
        simulated_until = int(self.cal.ends[self.month - 1]) if self.month else int(self.cal.starts[0])
        if not self._cut <= cut <= simulated_until:
            raise InputError(
                f"Facts are known up to {_instant(simulated_until).isoformat()} (the months simulated) and were "
                f"last read up to {_instant(self._cut).isoformat()}; {instant.isoformat()} is outside."
            )
        out = {}
        for name, table in self._unsettled.items():
            emit, self._unsettled[name] = _known(name, table, self._cut, cut)
            out[name] = emit
        self._cut = cut
        return out

    def _keep_activity(self, out: dict[TableName, pa.Table]) -> None:
        orders = out.get(TableName.ORDERS)
        if orders is not None:
            self._activity["orders"].append(orders.select(["customer_id", "ordered_at", "amount", "status"]))
        events = out.get(TableName.EVENTS)
        if events is not None:
            logins = events.filter(pc.equal(events["event_type"], "login"))
            self._activity["logins"].append(logins.select(["customer_id", "occurred_at"]))

    def ground_truth(self) -> pa.Table:
        """The true monthly churn probability per customer-month so far (the reactions applied)."""
        return self.sim.ground_truth()  # months not simulated yet have no customer in the window

    # --- truth -----------------------------------------------------------------------------------------------

    def true_effects(self, enrolments: pd.DataFrame) -> pd.DataFrame:
        """The true effect of each enrolment's playbook on its goal: the outcome with and without its messages.

        Parameters
        ----------
        enrolments : pandas.DataFrame
            One row per measured enrolment: ``playbook, customer_id, trigger_key, arm, enrolled_at, goal_metric,
            goal_window_days`` and ``y``, the goal outcome that happened (``retain.automation.outcomes``), which is
            the outcome *with* the messages for treated customers and *without* for the holdout.

        Returns
        -------
        pandas.DataFrame
            :data:`EFFECT_COLUMNS`: ``received`` (a message of the playbook reached the customer within the goal
            window), ``y_with``, ``y_without`` and ``effect = y_with − y_without``; for the holdout only
            ``y_without`` (the replay cannot add a message to a world that was simulated without it).
        """
        e = enrolments.reset_index(drop=True)
        if e.empty:
            return pd.DataFrame(columns=list(EFFECT_COLUMNS))
        i = self.customer_index(e["customer_id"])
        t = _epoch_seconds(e["enrolled_at"])
        end = t + e["goal_window_days"].to_numpy(dtype=np.int64) * _DAY
        treated = (e["arm"] == "treatment").to_numpy()
        factor, received = self._playbook_factors(e, i, t, end)
        cf = self._counterfactual_churn(i, end, factor)
        y = e["y"].to_numpy(dtype=float)
        y_without = y.copy()
        for metric in e["goal_metric"].unique():
            rows = np.flatnonzero(treated & (e["goal_metric"] == metric).to_numpy())
            lost = rows[cf[rows] <= end[rows]]  # churned earlier without the messages, inside the window
            y_without[lost] = self._without(str(metric), i[lost], t[lost], cf[lost].astype(np.int64))
        out = e[["playbook", "customer_id", "trigger_key", "arm", "enrolled_at", "goal_metric", "goal_window_days"]]
        out = out.assign(
            received=received & treated,
            y_with=np.where(treated, y, np.nan),
            y_without=y_without,
            effect=np.where(treated, y - y_without, np.nan),
        )
        return out[list(EFFECT_COLUMNS)]

    def _playbook_factors(
        self, e: pd.DataFrame, i: np.ndarray, t: np.ndarray, end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per enrolment and month, the multiplier its playbook's messages put on the hazard inside its window."""
        months, starts = self.cal.months, self.cal.starts
        factor = np.ones((len(e), months))
        received = np.zeros(len(e), dtype=bool)
        row_of: dict[tuple[str, int], list[int]] = {}
        for row, (playbook, cust) in enumerate(zip(e["playbook"], i, strict=True)):
            row_of.setdefault((str(playbook), int(cust)), []).append(row)

        def rows_in_window(playbook: str, customers: np.ndarray, m: int):
            for cust in customers:
                for row in row_of.get((playbook, int(cust)), ()):
                    # A message acts on the month it was delivered at the start of, inside the enrolment's window.
                    if t[row] <= starts[m] < end[row]:
                        yield row, cust

        for playbook, customers, m in self.sim.delivered:
            for row, _ in rows_in_window(playbook, customers, m):
                received[row] = True
        for playbook, customers, m, mult in self.sim.applied:
            lookup = dict(zip(customers.tolist(), mult.tolist(), strict=True))
            for row, cust in rows_in_window(playbook, customers, m):
                factor[row, m] = lookup[int(cust)]
        return factor, received

    def _counterfactual_churn(self, i: np.ndarray, end: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Per enrolment, when the customer would have churned without the playbook's messages, if that differs
        from what happened (``inf`` otherwise)."""
        sim, starts = self.sim, self.cal.starts
        cf = np.full(len(i), np.inf)
        settled = np.zeros(len(i), dtype=bool)
        for m in range(self.month):
            live = ~settled & sim.in_window[i, m] & (starts[m] < end)
            # Churned in the simulated world: churned without the message too (its hazard is higher), same event.
            settled |= live & sim.churned[i, m]
            live &= ~sim.churned[i, m]
            f = factor[:, m]
            p = np.minimum(sim.p_base[i, m] * sim.mult[i, m] / f, 1.0)
            p_vol = np.minimum(sim.pvol_base[i, m] * sim.mult[i, m] / f, 1.0)
            u = sim.u[i, m]
            churn = live & (f < 1.0) & (u < p)
            lo = np.maximum(starts[m], self.pop.signup_at[i])
            at = np.where(u < p_vol, sim.t_vol[i, m], sim.t_invol[i, m])
            cf = np.where(churn, np.maximum(at, lo), cf)
            settled |= churn
        return cf

    def _without(self, metric: str, i: np.ndarray, t: np.ndarray, cut: np.ndarray) -> np.ndarray:
        """The goal outcome of customers who, without the messages, churned at ``cut`` inside their window."""
        if metric == "retained" and self.model is SynthModel.SUBSCRIPTION:
            return np.zeros(len(i))  # no subscription running at the end of the window
        if metric == "retained":  # a shop: retained by a completed order in the window, before the churn
            return (self._sum("orders", i, t, cut) > 0).astype(float)
        if metric in ("orders", "revenue", "logins"):
            return self._sum(metric, i, t, cut)
        raise InputError(f"Unknown goal metric {metric!r}. Valid metrics: retained, orders, revenue, logins.")

    def _sum(self, metric: str, i: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per row, the metric's facts of customer ``i`` in ``(lo, hi]`` (epoch seconds), as the outcomes count."""
        source = "logins" if metric == "logins" else "orders"
        parts = self._activity[source]
        if not parts:
            return np.zeros(len(i))
        table = pa.concat_tables(parts).to_pandas()
        at = _epoch_seconds(table["occurred_at" if source == "logins" else "ordered_at"])
        cust = self.customer_index(table["customer_id"])
        if source == "logins":
            value = np.ones(len(table))
        elif metric == "revenue":  # completed amounts net of refunds (their own negative rows)
            completed = (table["status"] == "completed").to_numpy()
            amount = table["amount"].to_numpy(dtype=float)
            value = np.where(completed | (amount < 0), amount, 0.0)
        else:
            value = (table["status"] == "completed").to_numpy(dtype=float)
        key = cust * 10**10 + at
        order = np.argsort(key, kind="stable")
        key, cum = key[order], np.concatenate([[0.0], np.cumsum(value[order])])
        upper = np.searchsorted(key, i * 10**10 + hi, side="right")
        lower = np.searchsorted(key, i * 10**10 + lo, side="right")
        return cum[upper] - cum[lower]
