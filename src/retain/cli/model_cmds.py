"""Prediction commands: ``retain model train|evaluate|list|cv|backtest-synthetic`` and ``retain at-risk``.

Thin: each command parses its options, calls one service (:func:`retain.services.train`,
:func:`retain.services.score`, :mod:`retain.services.evaluation`) and prints the result. The at-risk list's
layout (a line per customer, the reasons underneath) is explained in :mod:`retain.cli._at_risk_table`.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.text import Text

from retain import services
from retain.cli._at_risk_table import (
    AT_RISK_TABLE_COLUMNS,
    DEFAULT_AT_RISK_COLUMNS,
    DEFAULT_SHOP_COLUMNS,
    at_risk_table,
    reasons_table,
)
from retain.cli._common import WorkspaceOption, console, err_console, handle_errors, print_json
from retain.cli._help import RetainCommand, RetainGroup
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, Fitted, choose_columns, fit_table
from retain.cli.analytics_cmds import OutputFormat
from retain.contract.taxonomy import ReasonCode
from retain.display.export import json_value, write_csv, write_json
from retain.errors import InputError
from retain.services import evaluation
from retain.synth import SynthModel
from retain.workspace import Workspace

__all__ = ["at_risk", "model_app"]

model_app = typer.Typer(
    cls=RetainGroup,
    help="Churn model: train, evaluate, list versions, cross-validate, backtest.\n\n"
    "Each training run saves a new version and makes it current; retain at-risk scores with the current one.\n\n"
    "Examples:\n  retain model train -w shop\n  retain model list -w shop",
    no_args_is_help=True,
)

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]
_METRICS = (
    ("roc_auc", "ROC-AUC"),
    ("pr_auc", "PR-AUC"),
    ("top_decile_lift", "top-decile lift"),
    ("brier", "Brier"),
    ("brier_base_rate", "Brier (base rate)"),
    ("base_rate", "churn rate"),
    ("n", "rows"),
)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _metrics_table(title: str, metrics: dict[str, float]) -> Fitted:
    rows = [[label, _fmt(float(metrics[key]))] for key, label in _METRICS if key in metrics]
    return fit_table([Col("metric", "metric"), Col("value", "value", "right")], rows, width=console.width, title=title)


def _calibration(rows: list[dict[str, Any]] | pd.DataFrame) -> Fitted:
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
    cells = [
        [
            str(int(r["bin"]) + 1),
            f"{int(r['count']):,}",
            f"{r['predicted_mean']:.3f}",
            f"{r['observed_rate']:.3f}",
            f"{r['gap']:+.3f}",
        ]
        for r in records
    ]
    return fit_table(
        [Col(name, name, "right") for name in ("bin", "count", "predicted", "observed", "gap")],
        cells,
        width=console.width,
        title="Calibration (test rows, deciles of the predicted probability)",
    )


def _comparison(comparison: services.BaselineComparison, title: str) -> None:
    """The model beside its baselines on the same rows, then the verdict in words."""
    if not comparison.baselines:
        console.print("No baselines were recorded with this model (trained before they were); retrain to see them.")
        return

    def cells(name: str, metrics: dict[str, float]) -> list[Text]:
        style = "bold" if name == "model" else ""
        values = [metrics.get(key) for key in ("roc_auc", "pr_auc", "top_decile_lift", "brier")]
        shown = ["—" if v is None else _fmt(v, 2 if i == 2 else 4) for i, v in enumerate(values)]
        return [Text(name.replace("_", " "), style=style), *(Text(v, style=style) for v in shown)]

    rows = [cells("model", comparison.model)]
    rows += [cells(name, b.metrics) for name, b in comparison.baselines.items()]
    columns = [Col("ranked by", "ranked by")] + [Col(n, n, "right") for n in ("ROC-AUC", "PR-AUC", "lift", "Brier")]
    console.print(fit_table(columns, rows, width=console.width, title=title, optional=["Brier", "PR-AUC"]))
    for name, baseline in comparison.baselines.items():
        if baseline.description:
            console.print(Text.assemble(f"  {name.replace('_', ' ')}: ", safe_text(baseline.description)), style="dim")
    for sentence in comparison.sentences():
        console.print(safe_text(sentence))


def _print_model(meta: Any) -> None:
    rows = meta.rows
    bt = meta.backtest
    console.print(
        f"Model [bold]{safe_markup(meta.version)}[/] · {meta.business_model} churn within {meta.horizon_days} days · "
        f"trained {meta.created_at.isoformat()} on {rows.total:,} rows ({rows.customers:,} customers, "
        f"{rows.positives:,} churned) · data {meta.data_range.start:%Y-%m-%d} to {meta.data_range.end:%Y-%m-%d}",
        highlight=False,
    )
    console.print(
        f"Temporal backtest: trained on {len(bt.train_dates)} monthly dates up to {bt.train_dates[-1]:%Y-%m-%d} "
        f"({rows.train:,} rows), tested on {len(bt.test_dates)} from {bt.test_dates[0]:%Y-%m-%d} "
        f"({rows.test:,} rows).",
        highlight=False,
    )
    console.print(_metrics_table("Backtest metrics (test rows)", bt.metrics))
    console.print(_calibration([row.model_dump() for row in bt.calibration]))
    _comparison(services.baseline_comparison(meta), "The model beside its baselines (same test rows)")


@model_app.command("train", cls=RetainCommand)
@handle_errors
def train(
    workspace: WorkspaceOption = Path("."),
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=1, help="Churn within this many days.")
    ] = services.DEFAULT_HORIZON_DAYS,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="Labels may look up to here (default: end of the data).", formats=_DATE_FORMATS),
    ] = None,
) -> None:
    """Build the monthly training data, backtest over time, fit on everything and save a new model version.

    Examples:
      retain model train -w shop
      retain model train -w shop --horizon-days 60 --as-of 2024-12-31
    """
    ws = Workspace.open(workspace)
    result = services.train(
        ws,
        horizon_days=horizon_days,
        as_of=as_of,
        progress=lambda stage: err_console.print(f"  {safe_markup(stage)} …", highlight=False),
    )
    _print_model(result.metadata)
    console.print(f"Saved {safe_markup(result.version.path)} and made it current.", highlight=False)


@model_app.command("evaluate", cls=RetainCommand)
@handle_errors
def evaluate(
    workspace: WorkspaceOption = Path("."),
    version: Annotated[str | None, typer.Option(help="Model version (default: the current one).")] = None,
) -> None:
    """Show the stored backtest metrics and calibration table of a model version.

    Examples:
      retain model evaluate -w shop
      retain model evaluate -w shop --version v1
    """
    _print_model(services.model_metadata(Workspace.open(workspace), version))


@model_app.command("list", cls=RetainCommand)
@handle_errors
def list_models(workspace: WorkspaceOption = Path(".")) -> None:
    """List the saved churn model versions (the current one is marked).

    Example: retain model list -w shop
    """
    ws = Workspace.open(workspace)
    saved = services.model_versions(ws)
    if not saved:
        console.print("No churn model trained yet; run `retain model train`.")
        return
    current = services.current_model_version(ws)
    kinds = {(str(item.metadata.business_model), item.metadata.horizon_days) for item in saved}
    columns = [Col("current", ""), Col("version", "version"), Col("created", "created")]
    if len(kinds) > 1:  # otherwise the title says it once
        columns += [Col("model", "model"), Col("horizon", "horizon", "right")]
    columns += [Col(name, name, "right") for name in ("rows", "ROC-AUC", "PR-AUC", "lift", "Brier")]
    rows = []
    for item in saved:
        m = item.metadata
        metrics = m.backtest.metrics
        kind = [str(m.business_model), f"{m.horizon_days} d"] if len(kinds) > 1 else []
        rows.append(
            [
                "*" if item.version == current else "",
                safe_text(item.version),
                f"{m.created_at:%Y-%m-%d %H:%M}",
                *kind,
                f"{m.rows.total:,}",
                f"{metrics['roc_auc']:.4f}",
                f"{metrics['pr_auc']:.4f}",
                f"{metrics['top_decile_lift']:.2f}",
                f"{metrics['brier']:.4f}",
            ]
        )
    (model, horizon), *_ = kinds
    title = "Churn models" + (f" ({model} churn within {horizon} days)" if len(kinds) == 1 else "")
    table = fit_table(columns, rows, width=console.width, title=title, optional=["PR-AUC", "Brier", "created"])
    console.print(table)
    if table.hidden:
        console.print(f"Left out to fit {console.width} columns: {', '.join(table.hidden)}.", style="dim")


@model_app.command("cv", cls=RetainCommand)
@handle_errors
def cv(
    file: Annotated[Path, typer.Argument(help="Labelled snapshot table: CSV or Parquet, one row per customer.")],
    target: Annotated[str, typer.Option("--target", help="The 0/1 churn label column.")],
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="Column to leave out (identifiers); repeat for several.")
    ] = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the fold shuffle and the model.")] = 0,
) -> None:
    """K-fold cross-validation of the churn model on a plain labelled table (no event history needed).

    Example: retain model cv churn.csv --target exited --drop customerId
    """
    err_console.print(f"  {folds}-fold cross-validation of {safe_markup(file.name)} …", highlight=False)
    run = evaluation.cross_validate_table(file, target=target, drop=drop, folds=folds, seed=seed)
    err_console.print(f"  {run.rows:,} rows × {run.features} features", highlight=False)
    result = run.model
    p = result.pooled

    def cells(row: dict[str, Any], fold: str, style: str = "") -> list[Text]:
        values = [
            fold,
            f"{int(row['n']):,}",
            f"{int(row['positives']):,}",
            f"{row['roc_auc']:.4f}",
            f"{row['pr_auc']:.4f}",
            f"{row['top_decile_lift']:.2f}",
            f"{row['brier']:.4f}",
        ]
        return [Text(value, style=style) for value in values]

    rows = [cells(row, str(int(row["fold"]) + 1)) for row in result.folds.to_dict("records")]
    rows.append(cells(p, "pooled", "bold"))
    table = fit_table(
        [Col(name, name, "right") for name in ("fold", "rows", "churned", "ROC-AUC", "PR-AUC", "lift", "Brier")],
        rows,
        width=console.width,
        title=Text.assemble(f"{folds}-fold cross-validation of ChurnModel on ", safe_text(file.name)),
    )
    console.print(table)
    console.print(
        f"pooled out-of-fold: ROC-AUC {p['roc_auc']:.4f} · PR-AUC {p['pr_auc']:.4f} · "
        f"top-decile lift {p['top_decile_lift']:.2f} · Brier {p['brier']:.4f} "
        f"(base rate {p['brier_base_rate']:.4f}) · {result.seconds:.1f} s",
        highlight=False,
    )
    console.print(_calibration(result.calibration_table()))
    _comparison(run.comparison, f"ChurnModel beside its baselines (same {folds} folds, pooled)")


@model_app.command("backtest-synthetic", cls=RetainCommand)
@handle_errors
def backtest_synthetic(
    customers: Annotated[int, typer.Option(min=100, help="Synthetic customers.")] = 10_000,
    model: Annotated[SynthModel, typer.Option(help="Business model of the synthetic company.")] = (
        SynthModel.SUBSCRIPTION
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, help="Churn within this many days.")] = 90,
) -> None:
    """Backtest on synthetic data against its ground truth: model ROC-AUC vs the true probabilities' ROC-AUC.

    Examples:
      retain model backtest-synthetic --customers 10000
      retain model backtest-synthetic --model commerce --seed 3
    """
    err_console.print(f"  generating {customers:,} {model.value} customers and backtesting …", highlight=False)
    r = evaluation.synthetic_backtest(customers=customers, seed=seed, model=model.value, horizon_days=horizon_days)
    console.print(
        f"{r.model}: {r.customers:,} customers (seed {r.seed}), {r.horizon_days}-day horizon; "
        f"train {len(r.train_dates)} dates ({r.n_train:,} rows), test {len(r.test_dates)} dates "
        f"from {r.test_dates[0]:%Y-%m-%d} ({r.n_test:,} rows)",
        highlight=False,
    )
    console.print(_metrics_table("Model on the test rows", r.metrics))
    console.print(
        f"model ROC-AUC {r.model_auc:.4f} · oracle ROC-AUC {r.oracle_auc:.4f} (true probabilities, same rows) · "
        f"ratio {r.auc_ratio:.4f} (acceptance: >= 0.95)",
        highlight=False,
    )
    others = ", ".join(f"{m} {auc:.4f} (ratio {r.ratio(m):.4f})" for m, auc in r.oracle_aucs.items())
    console.print(f"oracle variants: {others}", highlight=False)
    console.print(_calibration(r.calibration))
    console.print(f"{sum(r.seconds.values()):.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in r.seconds.items())})")


# ------------------------------------------------------------------ at-risk
_EXPORT_COLUMNS = ("rank", "customer_id", "name", "email", *services.AT_RISK_COLUMNS)
"""What the exports carry first: who, how to reach them, then the at-risk columns."""


_SUBSCRIPTION_ONLY = ("mrr", "plan")


def _export_columns(frame: pd.DataFrame) -> list[str]:
    """The list's columns in export order, without those that hold nothing for this business (a shop's MRR, the
    health components it has no data for)."""
    shop = "p_alive" in frame.columns and frame["p_alive"].notna().any()
    leading = [c for c in dict.fromkeys(_EXPORT_COLUMNS) if c in frame.columns]
    ordered = leading + [c for c in frame.columns if c not in leading]
    keep_empty = {"rank", "customer_id", "name", "email", "reasons", "reason_code", "playbook", "context"}
    return [
        c
        for c in ordered
        if not (shop and c in _SUBSCRIPTION_ONLY) and (c in keep_empty or frame[c].notna().any() or frame.empty)
    ]


def _write_out(out: Path, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(f"--out {out} must end in .csv or .json (the format is chosen by the name).")
    if out.exists() and not out.is_file():
        raise InputError(f"--out {out} is not a file; pass a file name such as at-risk.csv.")
    rows = frame[_export_columns(frame)].to_dict("records")
    temp = out.with_name(f".{out.name}.tmp")
    with temp.open("w", encoding="utf-8", newline="") as handle:
        if suffix == ".csv":
            write_csv(rows, handle)
        else:
            write_json({**meta, "customers": [{k: json_value(v) for k, v in r.items()} for r in rows]}, handle)
    temp.replace(out)


@handle_errors
def at_risk(
    workspace: WorkspaceOption = Path("."),
    top: Annotated[int, typer.Option(min=1, help="Customers to list (and explain), after the filters.")] = 20,
    everyone: Annotated[bool, typer.Option("--all", help="List every customer that passes the filters.")] = False,
    min_risk: Annotated[
        float | None, typer.Option("--min-risk", min=0.0, max=1.0, help="Only customers with P(churn) >= this.")
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option(
            help="Only members of this segment: a [segments] name of retain.toml, an RFM segment or a "
            "lifecycle state of the current snapshot."
        ),
    ] = None,
    reason: Annotated[ReasonCode | None, typer.Option(help="Only customers whose first reason has this code.")] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="Table columns, comma-separated, from: "
            + ", ".join(dict.fromkeys(_EXPORT_COLUMNS))
            + ". Default: "
            + ", ".join(DEFAULT_AT_RISK_COLUMNS)
            + " (shops: P(alive) instead of health), with the reasons underneath (name reasons to put them in "
            "the table). The table only; json, csv and --out carry every column.",
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")] = OutputFormat.TABLE,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write the list to this .csv or .json file (with name and email)."),
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="Instant scored (default: just after the latest fact).", formats=_DATE_FORMATS),
    ] = None,
) -> None:
    """Customers ranked by expected loss: P(churn) × what they bring over 12 months if they stay.

    The table has one line per customer (rank, id, churn risk, value if retained, expected loss, health,
    playbook); each customer's reasons follow underneath. Filters narrow the list; the rank stays the customer's
    place among everyone scored.

    Examples:
      retain at-risk -w shop --top 20
      retain at-risk -w shop --min-risk 0.3 --reason payment_failed
      retain at-risk -w shop --all --segment Champions --out champions.csv
    """
    ws = Workspace.open(workspace)
    listed = services.at_risk(
        ws,
        top=None if everyone else top,
        min_risk=min_risk,
        segment=segment,
        reason=None if reason is None else reason.value,
        as_of=as_of,
    )
    shown = listed.rows
    shop = listed.business_model == "commerce"
    meta = {
        "as_of": listed.as_of.isoformat(),
        "model_version": listed.model_version,
        "business_model": str(listed.business_model),
        "horizon_days": listed.horizon_days,
        "customers_scored": listed.scored,
        "customers_matching": listed.matching,
        "filters": listed.filters,
    }
    if out is not None:
        _write_out(out, shown, meta)
    available = [c for c in _export_columns(shown) if c in AT_RISK_TABLE_COLUMNS]
    chosen = choose_columns(columns, available, DEFAULT_SHOP_COLUMNS if shop else DEFAULT_AT_RISK_COLUMNS)
    if fmt is OutputFormat.JSON:
        rows = [{c: json_value(v) for c, v in row.items()} for row in shown[_export_columns(shown)].to_dict("records")]
        print_json({**meta, "customers": rows})
        return
    if fmt is OutputFormat.CSV:
        write_csv(shown[_export_columns(shown)].to_dict("records"), sys.stdout)
        return
    records = shown.to_dict("records")
    filtered = "" if not listed.filters else " matching " + ", ".join(f"{k} {v}" for k, v in listed.filters.items())
    title = (
        f"Top {len(shown)} of {listed.matching:,} customers{filtered} (of {listed.scored:,} scored) by expected "
        f"loss (as of {meta['as_of'][:10]}, model {meta['model_version']}, churn within {meta['horizon_days']} "
        "days)"
    )
    table = at_risk_table(records, [c for c in chosen if c in available], title=title, width=console.width)
    console.print(table)
    if table.hidden:
        console.print(
            f"Left out to fit {console.width} columns: {', '.join(table.hidden)} (--columns chooses).",
            style="dim",
            highlight=False,
        )
    if "reasons" in available and "reasons" not in chosen and records:
        console.print(reasons_table(records, with_code="reason_code" not in chosen, width=console.width))
    if shop:
        console.print(
            f"Shop: churn = no order within {listed.horizon_days} days; active = an order within "
            f"{listed.activity_window_days} days; value = expected spend over 12 months if the customer stays.",
            style="dim",
            highlight=False,
        )
    console.print(
        f"Expected loss of the {len(shown):,} listed: {shown['expected_loss'].sum():,.0f}."
        + (f" Written to {safe_markup(str(out))}." if out is not None else ""),
        highlight=False,
    )
