"""``retain synth``: write a seeded synthetic dataset in the canonical tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from retain.cli._common import console, handle_errors, progress_bar
from retain.synth import SynthModel, generate

__all__ = ["synth"]


@handle_errors
def synth(
    out: Annotated[Path, typer.Argument(help="Output folder (one file per table, ground truth in ground_truth/).")],
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 20_000,
    model: Annotated[SynthModel, typer.Option(help="Business model.")] = SynthModel.SUBSCRIPTION,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 0,
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "parquet",
) -> None:
    """Generate realistic customers, activity and churn whose true churn probabilities are known."""
    with progress_bar() as bar:
        task = bar.add_task("synth", total=customers)
        summary = generate(
            out,
            customers=customers,
            model=model,
            seed=seed,
            fmt=format,
            progress=lambda n: bar.update(task, completed=n),
        )
    table = Table(
        "table", "rows", title=f"Synthetic {summary.model} data, seed {summary.seed}, {summary.start} to {summary.end}"
    )
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"Written to {out.resolve()} (true churn probabilities in {out / 'ground_truth'})")
