"""``retain bench …``: measured, never asserted, speed of retain's jobs against a same-run baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from retain.bench.ingest_bench import run_ingest_bench
from retain.bench.measure import Measurement
from retain.cli._common import console, err_console, handle_errors

__all__ = ["bench_app"]

bench_app = typer.Typer(help="Benchmarks: retain's jobs against a baseline in the same run.", no_args_is_help=True)


@bench_app.command("ingest")
@handle_errors
def bench_ingest(
    rows: Annotated[list[int], typer.Option("--rows", help="Rows of the orders CSV; repeat for several sizes.")],
    repeats: Annotated[int, typer.Option(min=1, help="Runs per size; medians are reported.")] = 3,
    work_dir: Annotated[Path | None, typer.Option(help="Where test files are generated (cached).")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (for docs/benchmarks.md).")
    ] = False,
) -> None:
    """Validated ingest of an N-row orders CSV vs DuckDB's bare CSV-to-Parquet conversion of the same file."""

    def on_run(job: str, i: int, m: Measurement) -> None:
        err_console.print(f"  run {i + 1}: {job:<20} {m.seconds:8.2f} s  peak +{m.peak_rss_mb:,.0f} MB")

    headers = ("rows", "file MB", "duckdb s", "retain s", "ratio", "retain rows/s", "duckdb peak MB", "retain peak MB")
    lines = []
    for n in rows:
        err_console.print(f"[bold]{n:,} rows[/]")
        r = run_ingest_bench(n, repeats=repeats, work_dir=work_dir, on_run=on_run)
        lines.append(
            (
                f"{r.rows:,}",
                f"{r.file_mb:,.0f}",
                f"{r.baseline.seconds:.2f}",
                f"{r.retain.seconds:.2f}",
                f"{r.ratio:.2f}×",
                f"{r.rows_per_second:,.0f}",
                f"{r.baseline.peak_rss_mb:,.0f}",
                f"{r.retain.peak_rss_mb:,.0f}",
            )
        )
    print_results(f"retain bench ingest (median of {repeats})", headers, lines, markdown=markdown)


def print_results(title: str, headers: tuple[str, ...], lines: list[tuple[str, ...]], *, markdown: bool) -> None:
    """A Rich table, or with ``markdown`` the same figures as a Markdown table for docs/benchmarks.md."""
    if markdown:
        console.print("| " + " | ".join(headers) + " |", soft_wrap=True, highlight=False)
        console.print("|" + "---:|" * len(headers), soft_wrap=True, highlight=False)
        for line in lines:
            console.print("| " + " | ".join(line) + " |", soft_wrap=True, highlight=False)
        return
    table = Table(title=title)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=header == "rows")
    for line in lines:
        table.add_row(*line)
    console.print(table)
