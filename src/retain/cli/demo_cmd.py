"""``retain demo``: a complete tour on synthetic data, one step per capability.

Each capability adds a step to ``DEMO_STEPS`` (synthesise → ingest → summary → refresh → report today; models
later), so the demo grows with the product without becoming one long function.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from retain import services
from retain.cli._common import console, handle_errors, progress_bar
from retain.cli._safe import safe_markup
from retain.cli.ingest_cmd import report_ingest
from retain.cli.init_cmd import summary_table
from retain.contract.tables import TABLES
from retain.errors import WorkspaceError
from retain.ingest import IngestResult
from retain.services import RefreshResult
from retain.synth import SynthModel, SynthSummary, generate
from retain.workspace import Workspace

__all__ = ["DEMO_STEPS", "DemoContext", "demo"]


@dataclass
class DemoContext:
    workspace: Workspace
    customers: int
    model: SynthModel
    seed: int
    synthetic_dir: Path
    synth: SynthSummary | None = None
    ingested: list[IngestResult] = field(default_factory=list)
    refreshed: RefreshResult | None = None


def _synthesise(ctx: DemoContext) -> None:
    with progress_bar() as bar:
        task = bar.add_task(f"synthesise {ctx.customers:,} customers", total=ctx.customers)
        ctx.synth = generate(
            ctx.synthetic_dir,
            customers=ctx.customers,
            model=ctx.model,
            seed=ctx.seed,
            fmt="csv",
            progress=lambda n: bar.update(task, completed=n),
        )


def _ingest(ctx: DemoContext) -> None:
    files = [ctx.synthetic_dir / f"{name}.csv" for name in TABLES]
    files = [f for f in files if f.exists()]
    with progress_bar() as bar:
        for file in files:
            task = bar.add_task(f"ingest {file.stem}", total=None)
            result = ctx.workspace.ingest(
                file.stem, file, progress=lambda done, total, t=task: bar.update(t, completed=done, total=total)
            )
            bar.update(task, completed=1, total=1)
            ctx.ingested.append(result)
    for result in ctx.ingested:
        if result.rows_rejected:
            report_ingest(result)


def _summary(ctx: DemoContext) -> None:
    console.print(summary_table(services.table_summaries(ctx.workspace), title=f"Demo workspace {ctx.workspace.path}"))
    rejected = sum(r.rows_rejected for r in ctx.ingested)
    accepted = sum(r.rows_accepted for r in ctx.ingested)
    console.print(
        f"Ingested {accepted:,} rows into {len(ctx.ingested)} tables; {rejected:,} rejected.", highlight=False
    )


def _refresh(ctx: DemoContext) -> None:
    with progress_bar() as bar:
        task = bar.add_task("refresh", total=None)
        ctx.refreshed = services.refresh(
            ctx.workspace,
            progress=lambda mart, done, total: bar.update(
                task, description=f"refresh: {mart}", completed=done, total=total
            ),
        )
    result = ctx.refreshed
    console.print(
        f"Snapshot {result.snapshot_id}: {len(result.rows)} marts as of {result.as_of:%Y-%m-%d}, "
        f"{result.profiles_written:,} customer profiles in the state database ({result.seconds_total:.1f} s).",
        highlight=False,
    )


def _report(ctx: DemoContext) -> None:
    from retain.report import write_report

    out = write_report(services.require_snapshot(ctx.workspace), ctx.workspace.path / "report.html")
    console.print(f"Report: [bold]{safe_markup(out)}[/] (one self-contained HTML file; open it in a browser).")


def _predict(ctx: DemoContext) -> None:
    from retain.cli.model_cmds import at_risk

    result = services.train(
        ctx.workspace, progress=lambda stage: console.print(f"  {safe_markup(stage)} …", highlight=False)
    )
    m = result.metrics
    console.print(
        f"Model {result.version.version}: temporal backtest on {int(m['n']):,} later customer-months — "
        f"ROC-AUC {m['roc_auc']:.3f}, PR-AUC {m['pr_auc']:.3f}, top-decile lift {m['top_decile_lift']:.1f}×, "
        f"Brier {m['brier']:.4f} (base rate {m['brier_base_rate']:.4f}).",
        highlight=False,
    )
    at_risk(ctx.workspace.path, top=10)


DEMO_STEPS: list[tuple[str, Callable[[DemoContext], None]]] = [
    ("Synthesise a business", _synthesise),
    ("Ingest it, validating every row", _ingest),
    ("Summarise the workspace", _summary),
    ("Train the churn model and list who is at risk", _predict),
    ("Refresh analytics", _refresh),
    ("Write the report", _report),
]


@handle_errors
def demo(
    path: Annotated[Path, typer.Argument(help="Workspace folder to create.")] = Path("retain-demo"),
    customers: Annotated[int, typer.Option(min=100, help="Synthetic customers.")] = 20_000,
    model: Annotated[SynthModel, typer.Option(help="Business model.")] = SynthModel.SUBSCRIPTION,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing demo workspace.")] = False,
) -> None:
    """Create a workspace with synthetic customers and walk through what retain does with them.

    Examples:
      retain demo
      retain demo /tmp/demo --customers 2000 --model commerce --force
    """
    if path.exists() and any(path.iterdir()):
        if not force:
            raise WorkspaceError(f"{path} already exists; pass --force to replace it or choose another folder.")
        shutil.rmtree(path)
    ctx = DemoContext(Workspace.init(path), customers, SynthModel(model), seed, path / "synthetic")
    for number, (title, step) in enumerate(DEMO_STEPS, start=1):
        console.rule(f"[bold]{number}. {title}")
        step(ctx)
    shown = safe_markup(path)
    console.print(
        f"\nDone. Explore with [bold]retain metrics -w {shown}[/], [bold]retain segments -w {shown}[/] "
        f"or open {safe_markup(path / 'report.html')}.",
        highlight=False,
    )
