"""The early-warning marts: ``at_risk`` (the scored workspace), ``churn_calibration`` (the model's backtest) and
the risk columns joined into ``profiles`` — and what happens without a model."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from retain.marts.builders_risk import NO_MODEL_REASON, PROFILE_RISK_COLUMNS, TOP_EXPLAINED
from retain.services import churn_registry, current_snapshot, customer_360, refresh, score
from retain.state.profiles import get_profile


@pytest.fixture(scope="module")
def snapshot(trained_workspace):
    return current_snapshot(trained_workspace)


def test_at_risk_mart_is_the_workspace_ranked_at_the_snapshot_as_of(trained_workspace, snapshot):
    mart = snapshot.read("at_risk").to_pandas()
    floor = trained_workspace.settings.automation.explain_min_p_churn
    expected = score(trained_workspace, as_of=snapshot.as_of, top=TOP_EXPLAINED, explain_min_risk=floor).ranked
    assert len(mart) == len(expected) > 100
    assert mart["customer_id"].tolist() == expected["customer_id"].tolist()
    for column in ("rank", "p_churn", "value_if_retained", "expected_loss", "health"):
        assert mart[column].to_numpy() == pytest.approx(expected[column].to_numpy(dtype=float), rel=1e-12), column
    assert mart["band"].tolist() == expected["band"].tolist()
    # Ranked by p_churn × value_if_retained, descending, ranks 1..n; reasons for the first TOP_EXPLAINED and for
    # everyone at or above [automation] explain_min_p_churn (whom reason playbooks can act on).
    assert mart["expected_loss"].to_numpy() == pytest.approx((mart["p_churn"] * mart["value_if_retained"]).to_numpy())
    assert mart["rank"].tolist() == list(range(1, len(mart) + 1))
    assert (mart["expected_loss"].diff().dropna() <= 0).all()
    explained = mart["reasons"].notna()
    meant = (mart["rank"] <= TOP_EXPLAINED) | (mart["p_churn"] >= floor)
    assert explained.tolist() == meant.tolist()
    assert TOP_EXPLAINED < meant.sum() < len(mart)  # the floor adds customers beyond the top and leaves some out
    # An explained customer with no true risky reason gets none ("" and no code): nothing is made up (DESIGN.md §8).
    stated = mart["reasons"].fillna("") != ""
    assert stated.sum() > TOP_EXPLAINED // 2
    assert mart.loc[stated, "reason_code"].notna().all() and mart.loc[stated, "playbook"].notna().all()
    assert mart.loc[~stated, ["reason_code", "playbook"]].isna().all().all()
    assert set(mart["model_version"]) == {"v1"} and set(mart["horizon_days"]) == {30}


def test_profiles_carry_the_risk_columns_of_their_customer(trained_workspace, snapshot):
    profiles = snapshot.read("profiles").to_pandas()
    risk = snapshot.read("at_risk").to_pandas()
    assert profiles["customer_id"].is_unique and len(profiles) == snapshot.manifest["marts"]["profiles"]["rows"]
    assert len(profiles) > len(risk)  # customers not active at as_of are not scored
    merged = profiles.merge(risk, on="customer_id", how="left", suffixes=("", "_risk"), indicator=True)
    scored = merged["_merge"] == "both"
    assert scored.sum() == len(risk)
    for column in PROFILE_RISK_COLUMNS:
        source = "rank" if column == "risk_rank" else f"{column}_risk"  # at_risk calls the position "rank"
        mine, theirs = merged.loc[scored, column], merged.loc[scored, source]
        assert mine.isna().tolist() == theirs.isna().tolist(), column
        assert mine.dropna().tolist() == theirs.dropna().tolist(), column
        assert merged.loc[~scored, column].isna().all(), column
    # The customer 360 (CLI `retain customer`) and the state DB profile show the same numbers.
    top = risk.iloc[0]
    view = customer_360(trained_workspace, top["customer_id"]).profile
    assert view["p_churn"] == top["p_churn"] and view["reason_code"] == top["reason_code"]
    assert view["risk_rank"] == top["rank"] == 1 and view["reasons"] == top["reasons"]
    with trained_workspace.connect() as connection:
        stored = get_profile(connection, top["customer_id"]).profile
    assert stored["expected_loss"] == pytest.approx(top["expected_loss"], rel=1e-12)
    assert stored["playbook"] == top["playbook"] and stored["band"] == top["band"]


def test_churn_calibration_mart_is_the_backtest_table_with_the_lift_per_decile(trained_workspace, snapshot):
    mart = snapshot.read("churn_calibration").to_pandas().sort_values("bin").reset_index(drop=True)
    meta = churn_registry(trained_workspace).metadata().model_dump(mode="json")
    table = pd.DataFrame(meta["backtest"]["calibration"])
    assert mart["bin"].tolist() == table["bin"].tolist() == list(range(10))
    assert mart["count"].sum() == meta["backtest"]["metrics"]["n"] == meta["rows"]["test"]
    base = table["positives"].sum() / table["count"].sum()
    for i, row in table.iterrows():
        assert mart.loc[i, "decile"] == 10 - row["bin"]
        assert mart.loc[i, "observed_rate"] == pytest.approx(row["positives"] / row["count"], rel=1e-12)
        assert mart.loc[i, "lift"] == pytest.approx(row["positives"] / row["count"] / base, rel=1e-12)
        assert mart.loc[i, "predicted_mean"] == row["predicted_mean"]
    # Lift weighted by the deciles' sizes averages to exactly 1.
    assert (mart["lift"] * mart["count"]).sum() / mart["count"].sum() == pytest.approx(1.0, rel=1e-12)
    assert mart.loc[0, "roc_auc"] == meta["backtest"]["metrics"]["roc_auc"]
    assert not math.isnan(mart.loc[0, "brier"])


def test_without_a_model_the_risk_marts_are_skipped_and_the_risk_columns_null(tiny_workspace):
    result = refresh(tiny_workspace)
    assert result.skipped["at_risk"] == NO_MODEL_REASON == "no churn model trained; run `retain model train`"
    assert result.skipped["churn_calibration"] == NO_MODEL_REASON
    assert "at_risk" not in result.rows and "churn_calibration" not in result.rows
    snapshot = current_snapshot(tiny_workspace)
    assert not snapshot.has("at_risk") and not snapshot.has("churn_calibration")
    profiles = snapshot.read("profiles")
    assert set(PROFILE_RISK_COLUMNS) <= set(profiles.column_names)  # the profile spec holds, model or not
    assert all(profiles[column].null_count == 3 for column in PROFILE_RISK_COLUMNS)
    assert result.rows["profiles"] == 3


def test_the_360_explains_a_scored_customer_the_snapshot_did_not(trained_workspace, snapshot):
    """The snapshot explains the top of the list only; the 360 of anyone else scored is explained on demand, with
    the snapshot's model and facts — the same reasons scoring that customer at the top would give."""
    risk = snapshot.read("at_risk").to_pandas()
    unexplained = risk[risk["reasons"].isna()].iloc[0]
    view = customer_360(trained_workspace, unexplained["customer_id"]).profile
    assert view["reasons"] is not None and view["p_churn"] == unexplained["p_churn"]
    full = score(trained_workspace, as_of=snapshot.as_of, top=None).ranked.set_index("customer_id")
    expected = full.loc[unexplained["customer_id"]]
    assert (view["reasons"], view["reason_code"]) == (expected["reasons"], expected["reason_code"])
