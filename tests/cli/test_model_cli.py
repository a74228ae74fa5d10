"""The prediction CLI as a user runs it: model train/evaluate/list/cv and at-risk, including the refusals."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
from scoring_builders import build_workspace
from terminal80 import cells, cut_cells, flat, too_long
from terminal80 import run as run_80

from _ci import shared_path
from retain.cli.main import app
from retain.services import churn_registry, score
from retain.workspace import Workspace

runner = CliRunner(env={"COLUMNS": "250"})


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    ws = build_workspace(tmp_path_factory.mktemp("cli-model"), customers=600, model="subscription")
    result = _run("model", "train", "-w", str(ws.path))
    assert result.exit_code == 0, result.output
    return ws.path


def test_train_prints_the_backtest_and_saves_a_version(trained):
    result = _run("model", "evaluate", "-w", str(trained))
    assert result.exit_code == 0, result.output
    meta = churn_registry(Workspace.open(trained)).metadata().model_dump(mode="json")
    metrics = meta["backtest"]["metrics"]
    out = result.output
    assert "Model v1 · subscription churn within 30 days" in out
    assert re.search(rf"ROC-AUC\s+│\s+{metrics['roc_auc']:.4f}", out)
    assert re.search(rf"PR-AUC\s+│\s+{metrics['pr_auc']:.4f}", out)
    assert re.search(rf"top-decile lift\s+│\s+{metrics['top_decile_lift']:.4f}", out)
    assert re.search(rf"Brier\s+│\s+{metrics['brier']:.4f}", out)
    assert "Calibration" in out
    assert "tested on 3 from 2025-10-01" in out
    # The baselines and the health score on the same test rows, as stored with the model.
    for name, label in (("recency", "recency"), ("logistic_regression", "logistic regression"), ("health", "health")):
        auc = meta["backtest"]["baselines"][name]["metrics"]["roc_auc"]
        assert re.search(rf"│ {label}\s+│\s+{auc:.4f} │", out), name
    assert re.search(rf"│ model\s+│\s+{metrics['roc_auc']:.4f} │", out)


def test_list_marks_the_current_version(trained):
    result = _run("model", "list", "-w", str(trained))
    assert result.exit_code == 0, result.output
    assert re.search(r"│ \* │ v1 ", result.output)


def test_at_risk_json_is_the_ranked_top_n(trained):
    result = _run("at-risk", "-w", str(trained), "--top", "4", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = data["customers"]
    assert data["model_version"] == "v1" and data["horizon_days"] == 30
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    expected = score(Workspace.open(trained), top=4).ranked
    assert data["customers_scored"] == len(expected)
    assert [r["customer_id"] for r in rows] == expected["customer_id"].head(4).tolist()
    for row in rows:
        assert row["expected_loss"] == pytest.approx(row["p_churn"] * row["value_if_retained"], rel=1e-12)
        assert 0.0 <= row["p_churn"] <= 1.0 and 0 <= row["health"] <= 100
        assert row["band"] in {"green", "yellow", "red"}
        assert row["reasons"] and row["reason_code"] and row["playbook"]
    assert np.all(np.diff([r["expected_loss"] for r in rows]) <= 0)


def test_at_risk_table_and_csv(trained):
    table = _run("at-risk", "-w", str(trained), "--top", "3")
    assert table.exit_code == 0, table.output
    assert "Top 3 of" in table.output and "by expected loss" in table.output
    as_csv = _run("at-risk", "-w", str(trained), "--top", "3", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    for row in rows:
        assert row["customer_id"] in table.output
        assert float(row["expected_loss"]) == pytest.approx(float(row["p_churn"]) * float(row["value_if_retained"]))


def test_at_risk_without_a_model_says_to_train(tmp_path):
    Workspace.init(tmp_path / "empty")
    result = _run("at-risk", "-w", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "no churn model trained yet" in result.output
    assert "retain model train" in result.output


def test_train_refuses_too_few_customers_and_says_how_many_are_needed(tmp_path):
    ws = build_workspace(tmp_path, customers=40, model="subscription")
    result = _run("model", "train", "-w", str(ws.path))
    assert result.exit_code == 2
    assert "too little data to train a churn model" in result.output
    assert "need at least 200 rows and 20 of each class" in result.output
    assert "Traceback" not in result.output
    assert churn_registry(Workspace.open(ws.path)).versions() == []


def test_train_refuses_too_short_a_history(tmp_path):
    ws = build_workspace(tmp_path, customers=300, model="subscription", months=6)
    result = _run("model", "train", "-w", str(ws.path))
    assert result.exit_code == 2
    assert "too little history to train and backtest a churn model" in result.output
    # 3 months of history, a 30-day label window twice (training, then test), 3 test dates: 3 + 2 + 3 - 1 = 7.
    assert "about 7 months of data" in result.output


def test_cv_reports_per_fold_and_pooled_metrics_on_a_snapshot_table(tmp_path):
    rng = np.random.default_rng(5)
    n = 600
    usage = rng.normal(size=n)
    churned = (rng.uniform(size=n) < 1 / (1 + np.exp(-(2.5 * usage - 1)))).astype(int)
    path = tmp_path / "snapshot.csv"
    lines = ["customer,usage,plan,churned"] + [
        f"c{i},{usage[i]:.5f},{'basic' if i % 2 else 'pro'},{churned[i]}" for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    result = _run("model", "cv", str(path), "--target", "churned", "--drop", "customer", "--folds", "3")
    assert result.exit_code == 0, result.output
    assert re.search(r"│\s+pooled │\s+600 │", result.output)
    auc = float(re.search(r"pooled out-of-fold: ROC-AUC (\d\.\d{4})", result.output).group(1))
    assert auc > 0.8  # logit slope 2.5 on a standard normal: the true probabilities rank at about 0.87


def test_cv_unknown_column_lists_the_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,0\n")
    result = _run("model", "cv", str(path), "--target", "exited")
    assert result.exit_code == 2
    assert "has no column(s) ['exited']; its columns are ['a', 'b']" in result.output


@pytest.mark.slow
def test_bank_churn_cross_validation_reaches_the_acceptance():
    bank = shared_path("bank-churn-modelling", "Churn_Modelling.csv")  # fails under CI when absent
    result = _run(
        "model", "cv", str(bank), "--target", "exited",
        "--drop", "rowNumber", "--drop", "customerId", "--drop", "surname",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    print(result.output)
    pooled = re.search(
        r"pooled out-of-fold: ROC-AUC (\d\.\d+) · PR-AUC (\d\.\d+) · top-decile lift (\d\.\d+) · Brier (\d\.\d+)",
        result.output,
    )
    assert pooled is not None
    roc, pr, lift, brier = map(float, pooled.groups())
    assert roc >= 0.85
    assert pr > 0.2037  # better than the base rate (2,037 churners in 10,000)
    assert lift > 1.0 and brier < 0.2037 * (1 - 0.2037)
    assert re.search(r"│\s+pooled │\s+10,000 │\s+2,037 │", result.output)
    assert len(re.findall(r"│\s+[1-5] │\s+2,000 │", result.output)) == 5
    # Both baselines on the same folds, beside the model, and the verdict in words.
    found = re.findall(r"│ (model|recency|logistic regression)\s+│\s+(\d\.\d{4}) │", result.output)
    rows = {name: float(auc) for name, auc in found}
    assert set(rows) == {"model", "recency", "logistic regression"}
    assert rows["model"] == roc > rows["logistic regression"] > rows["recency"]
    assert "The model beats its baselines on the same 10,000 rows" in " ".join(result.output.split())


# ------------------------------------------------------------------ 80 columns
def _ok_80(*args: str) -> str:
    result = run_80(*args)
    assert result.exit_code == 0, result.output
    assert too_long(result.output) == [], "\n" + "\n".join(too_long(result.output))
    assert cut_cells(result.output) == []
    return result.output


def test_at_risk_in_80_columns_one_line_per_customer_then_the_reasons(trained, console_80):
    out = _ok_80("at-risk", "-w", str(trained), "--top", "5")
    expected = json.loads(_run("at-risk", "-w", str(trained), "--top", "5", "--format", "json").output)["customers"]
    table = cells(out)
    assert table[0] == ["#", "customer", "risk", "value", "exp. loss", "health", "playbook"]
    for row in expected:
        line = [
            str(row["rank"]),
            row["customer_id"],
            f"{row['p_churn']:.0%}",
            f"{row['value_if_retained']:,.0f}",
            f"{row['expected_loss']:,.0f}",
            f"{row['health']} {row['band']}",
            row["playbook"] or "—",
        ]
        assert line in table  # every id and number whole, on the customer's one line
        why = f"{row['reason_code']}: {row['reasons']}" if row["reasons"] else "no single clear reason"
        assert f"{row['rank']} {row['customer_id']} {why}" in flat(out)
    assert "Why (strongest reason first)" in out


def test_at_risk_columns_choose_the_table_and_unknown_names_are_refused(trained, console_80):
    out = _ok_80("at-risk", "-w", str(trained), "--top", "3", "--columns", "customer_id,expected_loss,reasons")
    expected = json.loads(_run("at-risk", "-w", str(trained), "--top", "3", "--format", "json").output)["customers"]
    table = cells(out)
    header = [" ".join(filter(None, column)) for column in zip(table[0], table[1], strict=True)]
    assert header == ["customer", "exp. loss", "reasons"]  # "exp. loss" wraps: the reasons get the room
    assert "Why (strongest reason first)" not in out
    table = table[2:]
    for row in expected:
        assert [row["customer_id"], f"{row['expected_loss']:,.0f}"] in [r[:2] for r in table]
    reasons = " ".join(r[2] for r in table if r[2])
    assert reasons == " ".join(row["reasons"] for row in expected)  # wrapped in their column, nothing lost
    refused = run_80("at-risk", "-w", str(trained), "--columns", "rank,churn_probability")
    assert refused.exit_code == 2
    said = flat(refused.output)
    assert (
        "Unknown column(s) 'churn_probability' for --columns. Valid: rank, customer_id, name, email, expected_loss"
        in said
    )


def test_model_list_and_evaluate_in_80_columns(trained, console_80):
    meta = churn_registry(Workspace.open(trained)).metadata()
    listed = cells(_ok_80("model", "list", "-w", str(trained)))
    assert listed[0] == ["", "version", "created", "rows", "ROC-AUC", "PR-AUC", "lift", "Brier"]
    metrics = meta.backtest.metrics
    assert listed[1] == [
        "*",
        "v1",
        f"{meta.created_at:%Y-%m-%d %H:%M}",
        f"{meta.rows.total:,}",
        f"{metrics['roc_auc']:.4f}",
        f"{metrics['pr_auc']:.4f}",
        f"{metrics['top_decile_lift']:.2f}",
        f"{metrics['brier']:.4f}",
    ]
    evaluated = _ok_80("model", "evaluate", "-w", str(trained))
    assert ["ROC-AUC", f"{metrics['roc_auc']:.4f}"] in cells(evaluated)
    assert "Model v1 · subscription churn within 30 days" in flat(evaluated)


def test_cv_in_80_columns(tmp_path, console_80):
    rng = np.random.default_rng(5)
    usage = rng.normal(size=400)
    churned = (rng.uniform(size=400) < 1 / (1 + np.exp(-(2.5 * usage - 1)))).astype(int)
    path = tmp_path / "snapshot.csv"
    path.write_text("usage,churned\n" + "".join(f"{u:.5f},{c}\n" for u, c in zip(usage, churned, strict=True)))
    out = _ok_80("model", "cv", str(path), "--target", "churned", "--folds", "3")
    assert ["pooled", "400", f"{churned.sum():,}"] in [row[:3] for row in cells(out)]


def test_at_risk_filters_and_out_file_for_a_crm(trained, tmp_path):
    everyone = json.loads(_run("at-risk", "-w", str(trained), "--all", "--format", "json").output)
    assert everyone["customers_matching"] == everyone["customers_scored"] == len(everyone["customers"])
    risky = json.loads(_run("at-risk", "-w", str(trained), "--all", "--min-risk", "0.1", "--format", "json").output)
    assert risky["customers_matching"] == sum(c["p_churn"] >= 0.1 for c in everyone["customers"])
    assert risky["filters"] == {"min_risk": "10%"}
    out = tmp_path / "crm.csv"
    result = _run("at-risk", "-w", str(trained), "--top", "4", "--out", str(out))
    assert result.exit_code == 0 and f"Written to {out}" in " ".join(result.output.split())
    rows = list(csv.DictReader(out.open()))
    assert [r["customer_id"] for r in rows] == [c["customer_id"] for c in everyone["customers"][:4]]
    assert list(rows[0])[:5] == ["rank", "customer_id", "name", "email", "expected_loss"]
    assert all(r["email"].endswith("@example.com") for r in rows if r["email"])
    code = everyone["customers"][0]["reason_code"] or "disengaged"
    by_reason = json.loads(_run("at-risk", "-w", str(trained), "--all", "--reason", code, "--format", "json").output)
    assert by_reason["customers"] and {c["reason_code"] for c in by_reason["customers"]} == {code}
    refused = _run("at-risk", "-w", str(trained), "--reason", "bored")
    assert refused.exit_code == 2 and "'bored' is not one of" in refused.output
    bad_out = _run("at-risk", "-w", str(trained), "--out", str(tmp_path / "crm.xlsx"))
    assert bad_out.exit_code == 2 and "must end in .csv or .json" in bad_out.output


def test_csv_exports_neutralise_spreadsheet_formulas(tmp_path):
    from retain.display.export import write_csv

    buffer = io.StringIO()
    write_csv([{"name": '=HYPERLINK("http://x")', "amount": -12.5, "note": "@SUM(A1)", "ok": "Anna"}], buffer)
    # The quote goes inside the CSV quoting: a spreadsheet reads the cell as text starting with "'=".
    assert buffer.getvalue().splitlines()[1] == '"\'=HYPERLINK(""http://x"")",-12.5,\'@SUM(A1),Anna'
