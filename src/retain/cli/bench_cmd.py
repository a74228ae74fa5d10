"""``retain bench …``: measured, never asserted, speed of retain's jobs against a same-run baseline."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from retain.bench.analytics_bench import JOBS, AnalyticsBenchResult, run_analytics_bench
from retain.bench.ingest_bench import run_ingest_bench
from retain.bench.measure import Measurement
from retain.cli._common import console, err_console, handle_errors
from retain.cli._help import RetainCommand, RetainGroup
from retain.cli._safe import safe_markup
from retain.cli._tables import Col, fit_table

__all__ = ["BenchJob", "bench_app", "print_results"]

bench_app = typer.Typer(
    cls=RetainGroup,
    help="Benchmarks: retain's jobs against a baseline in the same run.\n\n"
    "Times are measured, never asserted; docs/benchmarks.md has the published figures.\n\n"
    "Examples:\n  retain bench ingest --rows 1000000\n  retain bench analytics --customers 100000\n"
    "  retain bench playbooks --customers 100000\n"
    "  retain bench api --customers 100000",
    no_args_is_help=True,
)

BenchJob = StrEnum("BenchJob", {job.upper(): job for job in JOBS})
"""The jobs ``retain bench analytics --job`` can time (those of :data:`retain.bench.analytics_bench.JOBS`)."""


@bench_app.command("ingest", cls=RetainCommand)
@handle_errors
def bench_ingest(
    rows: Annotated[list[int], typer.Option("--rows", help="Rows of the orders CSV; repeat for several sizes.")],
    repeats: Annotated[int, typer.Option(min=1, help="Runs per size; medians are reported.")] = 3,
    work_dir: Annotated[Path | None, typer.Option(help="Where test files are generated (cached).")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (for docs/benchmarks.md).")
    ] = False,
) -> None:
    """Validated ingest of an N-row orders CSV vs DuckDB's bare CSV-to-Parquet conversion of the same file.

    Examples:
      retain bench ingest --rows 1000000 --rows 10000000
      retain bench ingest --rows 100000 --repeats 1 --markdown
    """

    def on_run(job: str, i: int, m: Measurement) -> None:
        err_console.print(f"  run {i + 1}: {job:<20} {m.seconds:8.2f} s  peak +{m.peak_rss_mb:,.0f} MB")

    headers = ("rows", "file MB", "duckdb s", "retain s", "ratio", "retain rows/s", "duckdb peak MB", "retain peak MB")
    lines = []
    for n in rows:
        err_console.print(f"[bold]{n:,} rows[/]", highlight=False)
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


@bench_app.command("analytics", cls=RetainCommand)
@handle_errors
def bench_analytics(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Synthetic subscription customers; repeat for several sizes.")
    ],
    repeats: Annotated[int, typer.Option(min=1, help="Runs per size and job; medians are reported.")] = 3,
    job: Annotated[
        list[BenchJob] | None,
        typer.Option("--job", help="A job to time; repeat for several. Default: all of them."),
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="Where synthetic data and workspaces are prepared (cached per size).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (for docs/benchmarks.md).")
    ] = False,
) -> None:
    """retain's analytics on DuckDB vs a plain pandas implementation of the same metrics, on the same lake.

    pandas computes the monthly retention series, logo cohorts, RFM and customer profiles; retain runs its full
    refresh (every mart) and, like for like, the same metrics as Ibis expressions. Ratios are pandas time / retain
    time (higher is better for retain).

    Examples:
      retain bench analytics --customers 100000 --customers 1000000
      retain bench analytics --customers 100000 --job refresh --job pandas
    """

    def on_run(name: str, i: int, m: Measurement, cpu: float) -> None:
        err_console.print(
            f"  run {i + 1}: {name:<8} {m.seconds:8.2f} s  cpu {cpu:8.2f} s  peak +{m.peak_rss_mb:,.0f} MB"
        )

    jobs = tuple(str(j) for j in job) if job else JOBS
    results: list[AnalyticsBenchResult] = []
    for n in sorted(set(customers)):
        err_console.print(f"[bold]{n:,} customers[/]")
        results.append(
            run_analytics_bench(
                n,
                repeats=repeats,
                jobs=jobs,
                work_dir=work_dir,
                seed=seed,
                on_step=lambda s: err_console.print(f"  {safe_markup(s)}", highlight=False),
                on_run=on_run,
            )
        )
    ran = [j for j in JOBS if j in jobs]
    headers = ("customers", "lake rows", *(f"{j} s" for j in ran), *(f"{j} CPU s" for j in ran))
    headers += tuple(f"pandas ÷ {j}" for j in ran if j != "pandas" and "pandas" in ran)
    headers += tuple(f"{j} peak MB" for j in ran)
    lines = []
    for r in results:
        ratios = [f"{r.ratio(j):.2f}×" for j in ran if j != "pandas" and "pandas" in ran]
        lines.append(
            (
                f"{r.customers:,}",
                f"{r.lake_rows:,}",
                *(f"{r.jobs[j].seconds:.2f}" for j in ran),
                *(f"{r.jobs[j].cpu_seconds:.2f}" for j in ran),
                *ratios,
                *(f"{r.jobs[j].peak_rss_mb:,.0f}" for j in ran),
            )
        )
    title = f"retain bench analytics (median of {repeats}; metrics: {', '.join(results[0].metrics)})"
    print_results(title, headers, lines, markdown=markdown)
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        growth = ", ".join(f"{j} {hi.jobs[j].seconds / lo.jobs[j].seconds:.1f}×" for j in ran)
        console.print(
            f"Growth {lo.customers:,} → {hi.customers:,} customers ({hi.lake_rows / lo.lake_rows:.1f}× the lake rows), "
            f"wall time: {growth}.",
            highlight=False,
        )


@bench_app.command("predict", cls=RetainCommand)
@handle_errors
def bench_predict(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Synthetic subscription customers; repeat for several sizes.")
    ],
    dates: Annotated[int, typer.Option(min=1, help="Monthly observation dates of the training dataset.")] = 6,
    work_dir: Annotated[
        Path | None, typer.Option(help="Where synthetic workspaces are prepared (shared with bench analytics).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (for docs/benchmarks.md).")
    ] = False,
) -> None:
    """Feature building, training and scoring time and peak memory; BG/NBD fit time vs the lifetimes package.

    Example: retain bench predict --customers 20000 --dates 6
    """
    import tempfile

    from retain.bench.predict_bench import run_predict_bench

    jobs = ("features", "dataset", "train", "score")
    results = []
    with tempfile.TemporaryDirectory(prefix="retain-bench-") as scratch:
        for n in sorted(set(customers)):
            err_console.print(f"[bold]{n:,} customers[/]")
            r = run_predict_bench(
                n,
                work_dir=work_dir or Path(scratch),
                dates=dates,
                seed=seed,
                on_step=lambda s: err_console.print(f"  {safe_markup(s)}", highlight=False),
            )
            for job in jobs:
                m = r.jobs[job]
                err_console.print(f"  {job:<9} {m.seconds:8.2f} s  peak +{m.peak_rss_mb:,.0f} MB")
            results.append(r)
    headers = (
        "customers",
        "features s",
        "dataset rows",
        "dataset s",
        "train s",
        "scored",
        "score s",
        *(f"{j} peak MB" for j in jobs),
        "BG/NBD retain s",
        "BG/NBD lifetimes s",
    )
    lines = []
    for r in results:
        lines.append(
            (
                f"{r.customers:,}",
                f"{r.jobs['features'].seconds:.2f}",
                f"{r.rows['dataset']:,}",
                f"{r.jobs['dataset'].seconds:.2f}",
                f"{r.jobs['train'].seconds:.2f}",
                f"{r.rows['score']:,}",
                f"{r.jobs['score'].seconds:.2f}",
                *(f"{r.jobs[j].peak_rss_mb:,.0f}" for j in jobs),
                f"{r.bgnbd_retain.seconds:.2f}" if r.bgnbd_retain else "—",
                f"{r.bgnbd_lifetimes.seconds:.2f}" if r.bgnbd_lifetimes else "not run",
            )
        )
    print_results(f"retain bench predict ({dates} training dates)", headers, lines, markdown=markdown)
    for r in results:
        fitted = ", ".join(
            f"{who}: " + " ".join(f"{k}={v:.3f}" for k, v in params.items()) for who, params in r.bgnbd_params.items()
        )
        console.print(f"BG/NBD parameters at {r.customers:,} customers — {fitted}", highlight=False)
    if results and results[0].lifetimes_note:
        console.print(f"BG/NBD vs lifetimes not run: {safe_markup(results[0].lifetimes_note)}.", highlight=False)


@bench_app.command("playbooks", cls=RetainCommand)
@handle_errors
def bench_playbooks(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Synthetic subscription customers; repeat for several sizes.")
    ],
    messages: Annotated[int, typer.Option(min=1, help="Outbox messages the worker delivers (topped up).")] = 100_000,
    repeats: Annotated[int, typer.Option(min=1, help="Runs per size and job; medians are reported.")] = 3,
    work_dir: Annotated[
        Path | None, typer.Option(help="Where synthetic workspaces are prepared (cached per size).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown tables (for docs/benchmarks.md).")
    ] = False,
) -> None:
    """10 playbooks run over N customers and M messages delivered, vs the bare trigger queries, inserts and POSTs.

    The run (triggers, conditions, enrolments, pressure rules, outbox) is compared with the same trigger and
    condition queries executed bare plus bare inserts of the rows it wrote; the worker's delivery to a receiver
    on loopback with the same requests POSTed bare. Ratios are retain time / baseline time.

    Examples:
      retain bench playbooks --customers 100000 --customers 1000000
      retain bench playbooks --customers 20000 --messages 10000 --repeats 1
    """
    from retain.bench.playbooks_bench import run_playbooks_bench

    def on_run(job: str, i: int, m: Measurement) -> None:
        err_console.print(f"  run {i + 1}: {job:<9} {m.seconds:8.2f} s  peak +{m.peak_rss_mb:,.0f} MB")

    results = []
    for n in sorted(set(customers)):
        err_console.print(f"[bold]{n:,} customers[/]")
        results.append(
            run_playbooks_bench(
                n,
                messages=messages,
                repeats=repeats,
                work_dir=work_dir,
                seed=seed,
                on_step=lambda s: err_console.print(f"  {safe_markup(s)}", highlight=False),
                on_run=on_run,
            )
        )
    for r in results:
        headers = ("playbook", "trigger", "fired", "bare rows", "entered", "held out", "conditions", "re-entry")
        headers += ("enqueued", "tasks/coupons", "suppressed")
        lines = [
            (
                p.name,
                p.trigger,
                f"{p.fired:,}",
                f"{p.baseline_fired:,}",
                f"{p.entered:,}",
                f"{p.held_out:,}",
                f"{p.conditions:,}",
                f"{p.reentry:,}",
                f"{p.enqueued:,}",
                f"{p.done:,}",
                f"{p.suppressed:,}",
            )
            for p in r.playbooks
        ]
        title = f"Playbooks at {r.customers:,} customers (last run)"
        if markdown:
            console.print(f"{title}:\n", highlight=False)
        print_results(title, headers, lines, markdown=markdown)
        if markdown:
            console.print()
    headers = ("customers", "rows written", "run s", "triggers s", "inserts s", "run ÷ (triggers + inserts)")
    headers += ("messages", "deliver s", "posts s", "deliver ÷ posts", "deliver msg/s", "posts msg/s")
    headers += ("distinct keys", "run peak MB", "triggers peak MB", "deliver peak MB")
    lines = []
    for r in results:
        jobs, last = r.jobs, r.deliveries[-1]
        lines.append(
            (
                f"{r.customers:,}",
                f"{sum(r.written.values()):,}",
                *(f"{jobs[j].seconds:.2f}" for j in ("run", "triggers", "inserts")),
                f"{r.ratio('run', 'triggers', 'inserts'):.2f}×",
                f"{last.messages:,}",
                *(f"{jobs[j].seconds:.2f}" for j in ("deliver", "posts")),
                f"{r.ratio('deliver', 'posts'):.2f}×",
                f"{r.per_second('deliver'):,.0f}",
                f"{r.per_second('posts'):,.0f}",
                f"{last.distinct_keys:,}",
                *(f"{jobs[j].peak_rss_mb:,.0f}" for j in ("run", "triggers", "deliver")),
            )
        )
    print_results(f"retain bench playbooks (median of {repeats})", headers, lines, markdown=markdown)
    for r in results:
        written = ", ".join(f"{name} {count:,}" for name, count in r.written.items())
        checks = "; ".join(
            f"deliver {d.delivered:,} delivered, receiver {d.requests:,} POSTs / {d.distinct_keys:,} keys"
            for d in r.deliveries
        )
        trained = (
            f"model trained on {r.prepared.model_customers:,} customers in {r.prepared.train_seconds:.1f} s"
            if r.prepared.train_seconds is not None
            else f"model trained on {r.prepared.model_customers:,} customers earlier"
        )
        console.print(
            f"{r.customers:,} customers: the run wrote {written} ({r.run_messages:,} messages; "
            f"{r.deliveries[-1].messages - r.run_messages:,} topped up); {checks}. Preparation: refresh "
            f"{r.prepared.refresh_seconds:.1f} s, {trained}.",
            highlight=False,
            soft_wrap=True,
        )
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        growth = ", ".join(f"{j} {hi.jobs[j].seconds / lo.jobs[j].seconds:.1f}×" for j in hi.jobs)
        console.print(
            f"Growth {lo.customers:,} → {hi.customers:,} customers, wall time: {growth}.",
            highlight=False,
            soft_wrap=True,
        )


@bench_app.command("api", cls=RetainCommand)
@handle_errors
def bench_api(
    customers: Annotated[int, typer.Option("--customers", min=1, help="Synthetic subscription customers.")],
    clients: Annotated[int, typer.Option(min=1, help="Concurrent clients (threads, one connection each).")] = 8,
    requests: Annotated[int, typer.Option(min=1, help="Requests per route.")] = 2000,
    work_dir: Annotated[
        Path | None, typer.Option(help="Where the workspace is prepared (cached per size; default: a temp folder).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data and of the customers read.")] = 0,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (for docs/benchmarks.md).")
    ] = False,
) -> None:
    """The API under load: a customer's 360 (random customers) and batch POST /v1/events against bare /health.

    A real `retain serve` process serves a prepared workspace of N customers; K clients in this process call each
    route. Reported: p50/p99 latency, throughput, and the 360's p99 over the bare route's p99 (target: at most 5).
    The events job runs only when the server has POST /v1/events.

    Examples:
      retain bench api --customers 100000 --work-dir /tmp/bench
      retain bench api --customers 1000000 --requests 5000 --markdown
    """
    import tempfile

    from retain.bench.api_bench import run_api_bench

    root = work_dir or Path(tempfile.gettempdir()) / "retain-bench"
    result = run_api_bench(
        customers,
        work_dir=root,
        clients=clients,
        requests=requests,
        seed=seed,
        on_step=lambda s: err_console.print(f"  {safe_markup(s)}", highlight=False),
    )
    routes = [result.health, result.customer_360] + ([result.events] if result.events else [])
    headers = ("route", "requests", "clients", "p50 ms", "p99 ms", "mean ms", "req/s", "errors")
    lines = [
        (
            r.route,
            f"{r.requests:,}",
            str(r.clients),
            *(f"{ms:.1f}" for ms in (r.p50_ms, r.p99_ms, r.mean_ms)),
            f"{r.throughput:,.0f}",
            str(r.errors),
        )
        for r in routes
    ]
    print_results(f"retain bench api ({customers:,} customers)", headers, lines, markdown=markdown)
    verdict = "within" if result.p99_ratio <= 5 else "MISSES"
    console.print(f"360 p99 / /health p99 = {result.p99_ratio:.2f} ({verdict} the target of 5).", highlight=False)
    if result.events_skipped:
        console.print(f"Events job skipped: {safe_markup(result.events_skipped)}.", highlight=False)


def print_results(title: str, headers: tuple[str, ...], lines: list[tuple[str, ...]], *, markdown: bool) -> None:
    """The figures as a Rich table, or with ``markdown`` as a Markdown table for docs/benchmarks.md.

    ``headers[0]`` is what each run varies (rows, customers). The Markdown table has a run per row, as the docs
    show it; the Rich table is transposed — a measure per row, a run per column — because a benchmark has a
    dozen measures and a few runs, and a dozen columns do not fit a terminal.
    """
    if markdown:
        console.print("| " + " | ".join(headers) + " |", soft_wrap=True, highlight=False)
        console.print("|" + "---:|" * len(headers), soft_wrap=True, highlight=False)
        for line in lines:
            console.print("| " + " | ".join(line) + " |", soft_wrap=True, highlight=False)
        return
    runs = [line[0] for line in lines]
    columns = [Col("measure", headers[0]), *(Col(f"run {n}", run, "right") for n, run in enumerate(runs))]
    rows = [[header, *(line[i] for line in lines)] for i, header in enumerate(headers) if i > 0]
    console.print(fit_table(columns, rows, width=console.width, title=title))
