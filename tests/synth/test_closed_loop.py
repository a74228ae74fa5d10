"""The steppable synthetic company: the same company as ``retain synth``, facts known by month, reactions, truth."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retain.contract.tables import TABLES, TableName
from retain.errors import ConfigError
from retain.synth import generate
from retain.synth.closed_loop import EFFECT_COLUMNS, SyntheticCompany
from retain.synth.reactions import Reactions, load_reactions
from retain.synth.simulation import DRIVERS

_IDS = {"events": "event_id", "tickets": "ticket_id", "feedback": "response_id", "orders": "order_id"}
_DAY = 86_400


@pytest.mark.parametrize("model", ["subscription", "commerce"])
def test_without_reactions_the_company_is_the_one_retain_synth_generates(tmp_path, model):
    generate(tmp_path, customers=1_200, model=model, seed=5, chunk_customers=1_200)
    company = SyntheticCompany(customers=1_200, model=model, seed=5, months=24)
    parts: dict[TableName, list[pa.Table]] = {}
    while not company.done:
        for name, table in company.advance().items():
            parts.setdefault(name, []).append(table)
    assert set(parts) == {TableName(p.stem) for p in tmp_path.glob("*.parquet")}
    for name, tables in parts.items():
        got = pa.concat_tables(tables).to_pandas()
        # A re-emitted row (a period that ended, a ticket resolved) is a new version of its key: keep the latest.
        key = list(TABLES[name].key)
        got = got.drop_duplicates(key, keep="last")
        ref = pq.read_table(tmp_path / f"{name}.parquet").to_pandas()
        columns = [c for c in ref.columns if c != _IDS.get(str(name))]  # ids are numbered in emission order
        a = got[columns].sort_values(columns).reset_index(drop=True)
        b = ref[columns].sort_values(columns).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    truth = pq.read_table(tmp_path / "ground_truth" / "churn_probability.parquet").to_pandas()
    pd.testing.assert_frame_equal(company.ground_truth().to_pandas(), truth)


def test_every_fact_is_known_by_the_end_of_its_month():
    company = SyntheticCompany(customers=1_500, seed=2, months=8)
    open_then_resolved = 0
    seen_open: set[str] = set()
    while not company.done:
        facts = company.advance()
        as_of = pd.Timestamp(company.as_of)
        for name, table in facts.items():
            frame = table.to_pandas()
            for column in frame.columns:
                if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                    assert (frame[column].dropna() < as_of).all(), (name, column)
        tickets = facts[TableName.TICKETS].to_pandas()
        open_then_resolved += (
            tickets["ticket_id"].isin(seen_open & set(tickets.dropna(subset="resolved_at").ticket_id)).sum()
        )
        seen_open |= set(tickets.loc[tickets.resolved_at.isna(), "ticket_id"])
    assert open_then_resolved > 0  # a ticket open at one month's end comes again, resolved, at a later one


def _reactions(**reactions):
    return Reactions.parse({"reactions": reactions})


def test_a_reaction_multiplies_the_next_months_hazard_of_receivers_it_applies_to():
    company = SyntheticCompany(
        customers=2_000,
        seed=3,
        months=8,
        reactions=_reactions(nudge={"hazard_multiplier": 0.5, "only_if_driver": "disengaged"}),
    )
    company.advance(5)
    month = company.month
    receivers = [f"C{n:07d}" for n in range(1, 2_001, 2)]
    company.receive(("nudge", cid) for cid in receivers)
    company.receive([("no_reaction_declared", "C0000002")])
    company.advance()
    sim = company.sim
    idx = company.customer_index(receivers)
    alive = sim.in_window[:, month]
    names = np.array([str(code) for code in DRIVERS])
    disengaged = (sim.driver[:, month] >= 0) & (names[np.maximum(sim.driver[:, month], 0)] == "disengaged")
    expected = np.ones(2_000)
    expected[idx] = np.where(disengaged[idx], 0.5, 1.0)
    assert (expected == 0.5).sum() > 50
    np.testing.assert_array_equal(sim.mult[alive, month], expected[alive])  # the others have no hazard
    np.testing.assert_allclose(sim.p_churn[alive, month], sim.p_base[alive, month] * expected[alive])
    assert np.all(sim.mult[:, :month] == 1.0) and np.all(sim.mult[:, month + 1 :] == 1.0)  # one month only


def _enrol_everyone(company: SyntheticCompany, playbook: str, window_days: int, metric: str = "retained"):
    """Enrol every customer alive at ``as_of`` into ``playbook``; all treated, every other one held out."""
    month, sim = company.month, company.sim
    alive = np.flatnonzero((company.pop.signup_month < month) & ~sim.dead)
    ids = [f"C{n:07d}" for n in company.pop.number[alive]]
    arm = np.where(np.arange(len(ids)) % 2 == 0, "treatment", "holdout")
    company.receive((playbook, cid) for cid, a in zip(ids, arm, strict=True) if a == "treatment")
    return pd.DataFrame(
        {
            "playbook": playbook,
            "customer_id": ids,
            "trigger_key": "k",
            "arm": arm,
            "enrolled_at": pd.Timestamp(company.as_of),
            "goal_metric": metric,
            "goal_window_days": window_days,
        }
    ), alive


def test_the_true_effect_is_the_replay_of_the_same_draws_without_the_message():
    company = SyntheticCompany(
        customers=20_000, seed=4, months=7, reactions=_reactions(save={"hazard_multiplier": 0.4})
    )
    company.advance(5)
    month, t = company.month, int(company.cal.starts[company.month])
    enrolments, alive = _enrol_everyone(company, "save", window_days=20)
    company.advance(2)
    sim, end = company.sim, t + 20 * _DAY
    # What happened: still subscribed at the end of the window (no pauses matter to the replay, so ignore them).
    churned_by_end = (sim.churn_at[alive] >= 0) & (sim.churn_at[alive] <= end)
    enrolments["y"] = (~churned_by_end).astype(float)
    effects = company.true_effects(enrolments)
    assert list(effects.columns) == list(EFFECT_COLUMNS)

    # Reference, customer by customer: without the message the hazard is p / 0.4 with the same uniform.
    expected = []
    for row, cust in enumerate(alive):
        if enrolments.arm[row] != "treatment":
            continue
        p, pvol, u = sim.p_churn[cust, month], sim.pvol_base[cust, month] * 0.4, sim.u[cust, month]
        p_without, pvol_without = min(p / 0.4, 1.0), min(pvol / 0.4, 1.0)
        saved = (u >= p) and (u < p_without)
        at = sim.t_vol[cust, month] if u < pvol_without else sim.t_invol[cust, month]
        at = max(at, int(company.cal.starts[month]), int(company.pop.signup_at[cust]))
        expected.append(float(enrolments.y[row] == 1.0 and saved and at <= end))
    treated = effects[effects.arm == "treatment"]
    np.testing.assert_array_equal(treated.effect.to_numpy(), np.array(expected))
    assert treated.received.all() and not effects[effects.arm == "holdout"].received.any()
    assert effects[effects.arm == "holdout"].effect.isna().all()
    # On average: P(saved) = p (1/0.4 - 1) times the chance the churn falls inside the 20 days (about 20/31).
    p = sim.p_churn[alive[enrolments.arm == "treatment"], month]
    analytic = float(np.mean(p * (1 / 0.4 - 1))) * 20 / 31
    se = float(np.sqrt(analytic / len(p)))
    assert treated.effect.sum() > 30
    assert abs(treated.effect.mean() - analytic) < 4 * se


def test_logins_without_the_message_stop_at_the_churn_the_message_prevented():
    company = SyntheticCompany(customers=6_000, seed=8, months=7, reactions=_reactions(save={"hazard_multiplier": 0.3}))
    company.advance(5)
    t = int(company.cal.starts[company.month])
    enrolments, _ = _enrol_everyone(company, "save", window_days=45, metric="logins")
    events = []
    while not company.done:
        events.append(company.advance()[TableName.EVENTS].to_pandas())
    logins = pd.concat(events).query("event_type == 'login'")
    logins["at"] = logins.occurred_at.astype("int64") // 10**6
    start, end = pd.Timestamp(t, unit="s", tz="UTC"), pd.Timestamp(t + 45 * _DAY, unit="s", tz="UTC")
    window = logins[(logins.occurred_at > start) & (logins.occurred_at <= end)]
    enrolments["y"] = enrolments.customer_id.map(window.groupby("customer_id").size()).fillna(0.0)
    effects = company.true_effects(enrolments).set_index("customer_id")
    saved = effects[effects.effect > 0]
    assert len(saved) > 5
    assert (effects.effect.dropna() >= 0).all()
    for cid, row in saved.iterrows():
        # The replay's churn instant: the customer's logins after it are the message's effect.
        mine = window[window.customer_id == cid].sort_values("at")
        assert row.y_with == len(mine)
        assert row.y_without == (mine["at"] <= _cf_instant(company, cid, t, 0.3)).sum()


def _cf_instant(company: SyntheticCompany, cid: str, t: int, factor: float) -> int:
    sim = company.sim
    cust = int(company.customer_index([cid])[0])
    for m in range(company.cal.months):
        if company.cal.starts[m] < t or not sim.in_window[cust, m]:
            continue
        u = sim.u[cust, m]
        if u < min(sim.p_churn[cust, m] / factor, 1.0):
            at = (
                sim.t_vol[cust, m]
                if u < min(sim.pvol_base[cust, m] * sim.mult[cust, m] / factor, 1.0)
                else sim.t_invol[cust, m]
            )
            return max(int(at), int(company.cal.starts[m]))
        break  # the message acts on one month only; after it the two worlds are the same
    raise AssertionError(f"{cid} was not saved by the message")


def test_reactions_file_is_validated_with_the_key_and_the_valid_keys(tmp_path):
    good = tmp_path / "reactions.yaml"
    good.write_text(
        "reactions:\n"
        "  wake_up: {hazard_multiplier: 0.7, only_if_driver: disengaged}\n"
        "  price_offer: {hazard_multiplier: 0.6, only_if_price_sensitive: true}\n"
        "  placebo: {hazard_multiplier: 1.0}\n"
    )
    reactions = load_reactions(good)
    assert reactions.get("wake_up").only_if_driver == ("disengaged",)
    assert reactions.get("placebo").hazard_multiplier == 1.0 and reactions.get("other") is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("reactions:\n  wake_up: {hazard_multiplier: 1.3, only_if_drivers: disengaged}\n")
    with pytest.raises(ConfigError) as error:
        load_reactions(bad)
    message = str(error.value)
    assert "reactions.wake_up.hazard_multiplier" in message and "less than or equal to 1" in message
    assert "reactions.wake_up.only_if_drivers: unknown key; valid keys: hazard_multiplier, only_if_driver" in message
    bad.write_text("reactions:\n  wake_up: {hazard_multiplier: 0.5, only_if_driver: bored}\n")
    with pytest.raises(ConfigError, match="'bored' is not a reason code; valid: price, "):
        load_reactions(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_reactions(tmp_path / "missing.yaml")


def _latest(parts: dict[TableName, list[pa.Table]]) -> dict[TableName, pd.DataFrame]:
    out = {}
    for name, tables in parts.items():
        frame = pa.concat_tables(tables).to_pandas()
        out[name] = frame.drop_duplicates(list(TABLES[name].key), keep="last").sort_values(list(TABLES[name].key))
    return out


def test_facts_known_week_by_week_add_up_to_the_month_and_are_never_from_the_future():
    monthly, weekly = (SyntheticCompany(customers=1_500, seed=6, months=5) for _ in range(2))
    by_month: dict[TableName, list[pa.Table]] = {}
    by_week: dict[TableName, list[pa.Table]] = {}
    opened_then_closed = 0
    seen_open: set[tuple[str, object]] = set()
    while not monthly.done:
        for name, table in monthly.advance().items():
            by_month.setdefault(name, []).append(table)
        start = weekly.as_of
        weekly.step()
        for cut in [start + timedelta(days=d) for d in (7, 14, 21)] + [weekly.as_of]:
            for name, table in weekly.known_until(cut).items():
                frame = table.to_pandas()
                for column in frame.columns:
                    if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                        assert (frame[column].dropna() < pd.Timestamp(cut)).all(), (name, column, cut)
                by_week.setdefault(name, []).append(table)
            subs = by_week[TableName.SUBSCRIPTIONS][-1].to_pandas()
            keys = set(zip(subs.subscription_id, subs.started_at, strict=True))
            ended = subs[subs.ended_at.notna()]
            closed = set(zip(ended.subscription_id, ended.started_at, strict=True))
            opened_then_closed += len(closed & seen_open)
            seen_open |= keys - closed
    assert opened_then_closed > 0  # a period running at one cut comes again, ended, at a later one
    a, b = _latest(by_month), _latest(by_week)
    assert a.keys() == b.keys()
    for name in a:
        columns = [c for c in a[name].columns if c != _IDS.get(str(name))]
        pd.testing.assert_frame_equal(a[name][columns].reset_index(drop=True), b[name][columns].reset_index(drop=True))
