"""retain simulate end to end on a small company: ingest, run, deliver, react, measure; checked at the channel."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from retain.errors import ConflictError, InputError
from retain.services.playbook_results import playbook_results
from retain.services.simulate import SIMULATED_CHANNEL_FILE, simulate
from retain.synth.reactions import load_reactions
from retain.workspace import Workspace

FIXTURES = Path(__file__).parent / "closed_loop"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "ws"
    result = simulate(
        path,
        customers=1_200,
        months=2,
        playbooks=FIXTURES / "playbooks",
        reactions=load_reactions(FIXTURES / "reactions.yaml"),
        seed=3,
        step_days=14,  # runs on the 1st, 15th and 29th
    )
    return path, result


def _channel(path: Path) -> pd.DataFrame:
    lines = [json.loads(line) for line in (path / SIMULATED_CHANNEL_FILE).read_text().splitlines()]
    return pd.DataFrame(lines)


def test_holdout_customers_never_receive_a_message_counted_at_the_channel(simulated):
    path, result = simulated
    ws = Workspace.open(path)
    facts = ws.facts()
    enrolments = facts.backend.to_pandas(facts.system_table("playbook_enrolments"))
    sent = _channel(path)
    assert len(sent) == sent.idempotency_key.nunique() == result.messages > 100
    arms = sent.merge(enrolments, on=["playbook", "customer_id", "trigger_key"], how="left")
    assert arms.arm.notna().all()  # every message belongs to an enrolment
    assert (arms.arm == "treatment").all()
    assert all(row.holdout_messages == 0 for row in result.playbooks)
    # The arms follow the configured share (0.5): the sample-ratio check passes.
    for row in result.playbooks:
        assert row.srm_p_value > 0.001
        assert abs(row.holdout / row.enrolled - 0.5) < 0.06


def test_the_truth_written_matches_what_happened_and_what_retain_measured(simulated):
    path, result = simulated
    effects = pq.read_table(path / "ground_truth" / "playbook_effects.parquet").to_pandas().set_index("playbook")
    per_customer = pq.read_table(path / "ground_truth" / "playbook_effects_by_customer.parquet").to_pandas()
    assert set(effects.index) == {"save_offer", "placebo"}
    for name, rows in per_customer.groupby("playbook"):
        treated = rows[rows.arm == "treatment"]
        assert effects.loc[name, "enrolled"] == len(rows)
        assert effects.loc[name, "true_effect"] == pytest.approx(treated.effect.mean())
        # With the message: what happened (the treated arm's measured outcome); without: never better here.
        assert (treated.y_with >= treated.y_without).all()
        assert rows[rows.arm == "holdout"].effect.isna().all()
    placebo, save = result.get("placebo"), result.get("save_offer")
    assert placebo.true_effect == 0.0  # a multiplier of 1 changes no draw
    # Saved by the message: churned with the hazard p / 0.4 but not with p, inside the 30 days. Expected count
    # from the true monthly probabilities the simulation wrote: sum of p (1 / 0.4 - 1) x 30 days / month length.
    truth = pq.read_table(path / "ground_truth" / "churn_probability.parquet").to_pandas()
    # Enrolled on the 1st: the message acts on the month of the enrolment (later in a month: on the next one).
    treated = per_customer[(per_customer.playbook == "save_offer") & (per_customer.arm == "treatment")]
    assert (treated.enrolled_at.dt.day != 1).any()
    treated = treated[treated.enrolled_at.dt.day == 1]
    month = treated.enrolled_at.dt.tz_localize(None).dt.date
    p = treated.assign(month=month).merge(truth, on=["customer_id", "month"])
    expected = float((p.p_churn * (1 / 0.4 - 1) * 30 / pd.to_datetime(p.month).dt.days_in_month).sum())
    saved = float(treated.effect.sum())
    assert expected > 3
    assert abs(saved - expected) < 4 * expected**0.5
    assert save.received == save.treated  # the higher priority wins every conflict with the placebo
    assert 0 < placebo.received < placebo.treated  # the placebo loses some (intention to treat: still treated)
    # The measured side is playbook_results itself.
    measured = {
        r.playbook: r for r in playbook_results(Workspace.open(path), as_of=pd.Timestamp("2026-01-01", tz="UTC"))
    }
    for row in result.playbooks:
        assert measured[row.playbook].uplift.raw.effect == pytest.approx(row.estimate)
        assert measured[row.playbook].measured == row.enrolled


def test_a_simulation_needs_an_empty_workspace(simulated):
    path, _ = simulated
    with pytest.raises(ConflictError, match="is not empty"):
        simulate(path, customers=10, months=1, playbooks=FIXTURES / "playbooks")


def test_retain_simulate_prints_measured_beside_true_effect(tmp_path):
    from typer.testing import CliRunner

    from retain.cli.main import app

    args = ["simulate", "--playbooks", str(FIXTURES / "playbooks"), "--reactions", str(FIXTURES / "reactions.yaml")]
    args += ["--customers", "400", "--months", "1", "--step-days", "31", "--seed", "2", "-w", str(tmp_path / "ws")]
    shown = CliRunner().invoke(app, [*args, "--format", "json"], terminal_width=100)
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["customers"] == 400 and data["months"] == 1 and data["seed"] == 2 and data["refreshes"] == 0
    assert {row["playbook"] for row in data["playbooks"]} == {"save_offer", "placebo"}
    assert all(row["holdout_messages"] == 0 for row in data["playbooks"])
    assert data["messages"] == len(_channel(tmp_path / "ws"))
    refused = CliRunner().invoke(app, [*args[:-2], "--seeds", "2", "-w", str(tmp_path / "other")])
    assert refused.exit_code == 2 and "--seeds needs --effect NAME" in refused.output


def test_the_profile_is_refreshed_only_when_a_playbook_reads_it_and_it_is_old(tmp_path):
    library = Path(__file__).parents[2] / "src" / "retain" / "automation" / "library"
    (tmp_path / "pb").mkdir()
    (tmp_path / "pb" / "wake_up.yaml").write_text((library / "wake_up.yaml").read_text())  # conditions: lifecycle
    result = simulate(
        tmp_path / "ws", customers=300, months=1, playbooks=tmp_path / "pb", seed=1, step_days=14, refresh_days=20
    )
    # Runs on the 1st (no profile yet: refresh), the 15th (14 days old: kept) and the 29th (28 days: refresh).
    assert result.refreshes == 2
    installed = (tmp_path / "ws" / "playbooks" / "wake_up.yaml").read_text()
    assert "enabled: true" in installed and "channel: simulated" in installed and "template" not in installed


def test_a_risk_playbook_gets_a_churn_model_trained_on_the_history(tmp_path):
    library = Path(__file__).parents[2] / "src" / "retain" / "automation" / "library"
    (tmp_path / "pb").mkdir()
    text = (library / "re_engagement.yaml").read_text().replace("min_p_churn: 0.3", "min_p_churn: 0.02")
    (tmp_path / "pb" / "re_engagement.yaml").write_text(text)
    result = simulate(tmp_path / "ws", customers=2_000, months=1, playbooks=tmp_path / "pb", seed=4, step_days=31)
    assert (tmp_path / "ws" / "models" / "churn").is_dir()
    assert result.refreshes == 1
    row = result.get("re_engagement")
    assert row.enrolled > 0 and row.holdout_messages == 0  # customers scored at risk for disengagement entered
    with pytest.raises(InputError, match=r"read P\(churn\).*Pass a longer --history"):
        simulate(tmp_path / "short", customers=300, months=1, playbooks=tmp_path / "pb", history_months=3)
