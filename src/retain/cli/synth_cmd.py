"""``retain synth``: write a seeded synthetic dataset in the canonical tables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from retain.cli._common import console, handle_errors, progress_bar
from retain.cli._safe import safe_markup
from retain.cli._tables import Col, fit_table
from retain.synth import SynthModel, generate

__all__ = ["SynthFormat", "synth"]


class SynthFormat(StrEnum):
    """File format of the synthetic tables."""

    CSV = "csv"
    PARQUET = "parquet"


@handle_errors
def synth(
    out: Annotated[Path, typer.Argument(help="Output folder (one file per table, ground truth in ground_truth/).")],
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 20_000,
    model: Annotated[SynthModel, typer.Option(help="Business model.")] = SynthModel.SUBSCRIPTION,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 0,
    format: Annotated[SynthFormat, typer.Option("--format", help="File format of the tables.")] = SynthFormat.PARQUET,
) -> None:
    """Generate realistic customers, activity and churn whose true churn probabilities are known.

    Examples:
      retain synth synthetic/
      retain synth --customers 100000 --model commerce --format csv synthetic/
    """
    with progress_bar() as bar:
        task = bar.add_task("synth", total=customers)
        summary = generate(
            out,
            customers=customers,
            model=model,
            seed=seed,
            fmt=format.value,
            progress=lambda n: bar.update(task, completed=n),
        )
    title = f"Synthetic {summary.model} data, seed {summary.seed}, {summary.start} to {summary.end}"
    rows = [[name, f"{count:,}"] for name, count in summary.rows.items()]
    console.print(
        fit_table([Col("table", "table"), Col("rows", "rows", "right")], rows, width=console.width, title=title)
    )
    console.print(
        f"Written to {safe_markup(out.resolve())} (true churn probabilities in {safe_markup(out / 'ground_truth')})",
        highlight=False,
    )
