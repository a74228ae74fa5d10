"""Prediction commands: ``retain model train|evaluate|list|cv|backtest-synthetic`` and ``retain at-risk``.

Thin: each command parses its options, calls one service (:func:`retain.services.train`,
:func:`retain.services.score`, :mod:`retain.services.evaluation`) and prints the result.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from retain import services
from retain.cli._common import WorkspaceOption, console, err_console, handle_errors, print_json
from retain.cli.analytics_cmds import OutputFormat
from retain.services import evaluation
from retain.workspace import Workspace

__all__ = ["at_risk", "model_app"]

model_app = typer.Typer(
    help="Churn model: train, evaluate, list versions, cross-validate, backtest.", no_args_is_help=True
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


def _metrics_table(title: str, metrics: dict[str, float]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, label in _METRICS:
        if key in metrics:
            table.add_row(label, _fmt(float(metrics[key])))
    return table


def _calibration(rows: list[dict[str, Any]] | pd.DataFrame) -> Table:
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
    table = Table(title="Calibration (test rows, deciles of the predicted probability)", title_justify="left")
    for col in ("bin", "count", "predicted", "observed", "gap"):
        table.add_column(col, justify="right")
    for r in records:
        table.add_row(
            str(int(r["bin"]) + 1),
            f"{int(r['count']):,}",
            f"{r['predicted_mean']:.3f}",
            f"{r['observed_rate']:.3f}",
            f"{r['gap']:+.3f}",
        )
    return table


def _print_model(meta: Any) -> None:
    rows = meta.rows
    bt = meta.backtest
    console.print(
        f"Model [bold]{meta.version}[/] · {meta.business_model} churn within {meta.horizon_days} days · "
        f"trained {meta.created_at.isoformat()} on {rows.total:,} rows ({rows.customers:,} customers, "
        f"{rows.positives:,} churned) · data {meta.data_range.start:%Y-%m-%d} to {meta.data_range.end:%Y-%m-%d}",
        soft_wrap=True,
        highlight=False,
    )
    console.print(
        f"Temporal backtest: trained on {len(bt.train_dates)} monthly dates up to {bt.train_dates[-1]:%Y-%m-%d} "
        f"({rows.train:,} rows), tested on {len(bt.test_dates)} from {bt.test_dates[0]:%Y-%m-%d} "
        f"({rows.test:,} rows).",
        soft_wrap=True,
        highlight=False,
    )
    console.print(_metrics_table("Backtest metrics (test rows)", bt.metrics))
    console.print(_calibration([row.model_dump() for row in bt.calibration]))


@model_app.command("train")
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
    """Build the monthly training data, backtest over time, fit on everything and save a new model version."""
    ws = Workspace.open(workspace)
    result = services.train(
        ws,
        horizon_days=horizon_days,
        as_of=as_of,
        progress=lambda stage: err_console.print(f"  {stage} …", highlight=False),
    )
    _print_model(result.metadata)
    console.print(f"Saved {result.version.path} and made it current.", highlight=False, soft_wrap=True)


@model_app.command("evaluate")
@handle_errors
def evaluate(
    workspace: WorkspaceOption = Path("."),
    version: Annotated[str | None, typer.Option(help="Model version (default: the current one).")] = None,
) -> None:
    """Show the stored backtest metrics and calibration table of a model version."""
    _print_model(services.model_metadata(Workspace.open(workspace), version))


@model_app.command("list")
@handle_errors
def list_models(workspace: WorkspaceOption = Path(".")) -> None:
    """List the saved churn model versions (the current one is marked)."""
    ws = Workspace.open(workspace)
    saved = services.model_versions(ws)
    if not saved:
        console.print("No churn model trained yet; run `retain model train`.")
        return
    current = services.current_model_version(ws)
    table = Table(title="Churn models", title_justify="left")
    for col in ("", "version", "created", "model", "horizon", "rows", "ROC-AUC", "PR-AUC", "lift", "Brier"):
        table.add_column(col, justify="left" if col in ("", "version", "created", "model") else "right")
    for item in saved:
        m = item.metadata
        metrics = m.backtest.metrics
        table.add_row(
            "*" if item.version == current else "",
            item.version,
            f"{m.created_at:%Y-%m-%d %H:%M:%S}",
            str(m.business_model),
            f"{m.horizon_days} d",
            f"{m.rows.total:,}",
            f"{metrics['roc_auc']:.4f}",
            f"{metrics['pr_auc']:.4f}",
            f"{metrics['top_decile_lift']:.2f}",
            f"{metrics['brier']:.4f}",
        )
    console.print(table)


@model_app.command("cv")
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
    """K-fold cross-validation of the churn model on a plain labelled table (no event history needed)."""
    err_console.print(f"  {folds}-fold cross-validation of {file.name} …", highlight=False)
    result, n_rows, n_features = evaluation.cross_validate_file(file, target=target, drop=drop, folds=folds, seed=seed)
    err_console.print(f"  {n_rows:,} rows × {n_features} features", highlight=False)
    table = Table(title=f"{folds}-fold cross-validation of ChurnModel on {file.name}", title_justify="left")
    for col in ("fold", "rows", "churned", "ROC-AUC", "PR-AUC", "lift", "Brier"):
        table.add_column(col, justify="right")
    for row in result.folds.to_dict("records"):
        table.add_row(
            str(int(row["fold"]) + 1),
            f"{int(row['n']):,}",
            f"{int(row['positives']):,}",
            f"{row['roc_auc']:.4f}",
            f"{row['pr_auc']:.4f}",
            f"{row['top_decile_lift']:.2f}",
            f"{row['brier']:.4f}",
        )
    p = result.pooled
    table.add_row(
        "pooled",
        f"{int(p['n']):,}",
        f"{int(p['positives']):,}",
        f"{p['roc_auc']:.4f}",
        f"{p['pr_auc']:.4f}",
        f"{p['top_decile_lift']:.2f}",
        f"{p['brier']:.4f}",
        style="bold",
    )
    console.print(table)
    console.print(
        f"pooled out-of-fold: ROC-AUC {p['roc_auc']:.4f} · PR-AUC {p['pr_auc']:.4f} · "
        f"top-decile lift {p['top_decile_lift']:.2f} · Brier {p['brier']:.4f} "
        f"(base rate {p['brier_base_rate']:.4f}) · {result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    console.print(_calibration(result.calibration_table()))


@model_app.command("backtest-synthetic")
@handle_errors
def backtest_synthetic(
    customers: Annotated[int, typer.Option(min=100, help="Synthetic customers.")] = 10_000,
    model: Annotated[str, typer.Option(help="Business model: subscription or commerce.")] = "subscription",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, help="Churn within this many days.")] = 90,
) -> None:
    """Backtest on synthetic data against its ground truth: model ROC-AUC vs the true probabilities' ROC-AUC."""
    err_console.print(f"  generating {customers:,} {model} customers and backtesting …")
    r = evaluation.synthetic_backtest(customers=customers, seed=seed, model=model, horizon_days=horizon_days)
    console.print(
        f"{r.model}: {r.customers:,} customers (seed {r.seed}), {r.horizon_days}-day horizon; "
        f"train {len(r.train_dates)} dates ({r.n_train:,} rows), test {len(r.test_dates)} dates "
        f"from {r.test_dates[0]:%Y-%m-%d} ({r.n_test:,} rows)",
        highlight=False,
        soft_wrap=True,
    )
    console.print(_metrics_table("Model on the test rows", r.metrics))
    console.print(
        f"model ROC-AUC {r.model_auc:.4f} · oracle ROC-AUC {r.oracle_auc:.4f} (true probabilities, same rows) · "
        f"ratio {r.auc_ratio:.4f} (acceptance: >= 0.95)",
        highlight=False,
        soft_wrap=True,
    )
    others = ", ".join(f"{m} {auc:.4f} (ratio {r.ratio(m):.4f})" for m, auc in r.oracle_aucs.items())
    console.print(f"oracle variants: {others}", highlight=False, soft_wrap=True)
    console.print(_calibration(r.calibration))
    console.print(f"{sum(r.seconds.values()):.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in r.seconds.items())})")


# ------------------------------------------------------------------ at-risk
def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _text(value: Any) -> str:
    value = _json_value(value)
    return "" if value is None else str(value)


@handle_errors
def at_risk(
    workspace: WorkspaceOption = Path("."),
    top: Annotated[int, typer.Option(min=1, help="Customers to list (and explain).")] = 20,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")] = OutputFormat.TABLE,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="Instant scored (default: end of the data).", formats=_DATE_FORMATS),
    ] = None,
) -> None:
    """Customers ranked by expected loss (P(churn) × value if retained), with health, reasons and the playbook."""
    scored = services.score(Workspace.open(workspace), as_of=as_of, top=top)
    ranked = scored.ranked
    meta = {
        "as_of": scored.as_of.isoformat(),
        "model_version": scored.model_version,
        "business_model": str(scored.business_model),
        "horizon_days": scored.horizon_days,
    }
    shown = ranked.head(top)
    columns = [c for c in services.AT_RISK_COLUMNS if c in ranked.columns]
    if fmt is OutputFormat.JSON:
        rows = [{c: _json_value(v) for c, v in row.items()} for row in shown[columns].to_dict("records")]
        print_json({**meta, "customers_scored": len(ranked), "customers": rows})
        return
    if fmt is OutputFormat.CSV:
        sys.stdout.write(shown[columns].to_csv(index=False))
        return
    table = Table(
        title=f"Top {len(shown)} of {len(ranked):,} customers by expected loss (as of {meta['as_of'][:10]}, "
        f"model {meta['model_version']}, churn within {meta['horizon_days']} days)",
        title_justify="left",
    )
    for col, justify in (
        ("#", "right"),
        ("customer", "left"),
        ("risk", "right"),
        ("health", "right"),
        ("value", "right"),
        ("exp. loss", "right"),
        ("reasons", "left"),
        ("reason code", "left"),
        ("playbook", "left"),
    ):
        table.add_column(col, justify=justify, overflow="fold")
    colours = {"green": "green", "yellow": "yellow", "red": "red"}
    for row in shown.to_dict("records"):
        band = str(row["band"])
        table.add_row(
            str(row["rank"]),
            str(row["customer_id"]),
            f"{row['p_churn']:.0%}",
            f"[{colours.get(band, 'white')}]{row['health']} {band}[/]",
            f"{row['value_if_retained']:,.0f}",
            f"{row['expected_loss']:,.0f}",
            _text(row["reasons"]),
            _text(row["reason_code"]),
            _text(row["playbook"]),
        )
    console.print(table)
    total = ranked["expected_loss"].sum()
    console.print(
        f"Expected loss over all {len(ranked):,} customers: {total:,.0f} "
        f"(top {len(shown)}: {shown['expected_loss'].sum():,.0f}).",
        highlight=False,
        soft_wrap=True,
    )
