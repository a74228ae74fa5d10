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
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, fit_table
from retain.cli.ingest_cmd import report_ingest
from retain.cli.init_cmd import summary_table
from retain.contract.tables import TABLES
from retain.errors import RetainError, WorkspaceError
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
    from retain.services.playbook_results import playbook_results

    snapshot = services.require_snapshot(ctx.workspace)
    results = playbook_results(ctx.workspace, as_of=snapshot.as_of)
    out = write_report(snapshot, ctx.workspace.path / "report.html", playbooks=results)
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


def _first_message(steps: list) -> str:
    """The first step in a few words: an email's subject, else the first line of what it sends."""
    if not steps:
        return ""
    lines = [line for line in steps[0].text.splitlines() if line.strip()]
    subject = next((line for line in lines if line.startswith("Subject:")), None)
    shown = subject.removeprefix("Subject:").strip() if subject else (lines[0] if lines else "")
    return f"{steps[0].action}: {shown[:70]}"


def _playbooks(ctx: DemoContext) -> None:
    from retain.cli.simulate_cmd import _print as print_simulation
    from retain.services.playbook_preview import preview_playbook
    from retain.services.playbooks import install_playbooks, list_playbooks, playbooks_folder
    from retain.services.simulate import simulate

    ws = ctx.workspace
    install_playbooks(ws)
    folder = playbooks_folder(ws)
    as_of = ws.facts().default_as_of  # the synthetic company's "today": just after its latest fact
    console.print(
        f"Installed the built-in playbooks in {safe_markup(folder)} (disabled until you set enabled: true). "
        f"Who would enter each one on {as_of:%Y-%m-%d}, the data's last day — a preview, nothing is sent or "
        "written:",
        highlight=False,
    )
    rows = []
    for playbook in list_playbooks(ws).playbooks:
        try:
            preview = preview_playbook(ws, playbook.name, as_of=as_of, show=1)
        except RetainError as exc:  # e.g. a trigger this company has no data for
            entered, first = "—", str(exc)
        else:
            entered = f"{preview.entered:,}"
            first = _first_message(preview.rendered[0].steps) if preview.rendered else ""
        rows.append([safe_text(playbook.name), safe_text(playbook.spec.trigger.summary()), entered, safe_text(first)])
    columns = [Col("playbook", "playbook"), Col("trigger", "trigger"), Col("would enter", "would enter", "right")]
    columns.append(Col("first message", "first message", wrap=True, min_width=12))
    console.print(fit_table(columns, rows, width=console.width, optional=["trigger"]))
    console.print(
        "Does it work? A smaller synthetic company (2,000 customers) run forward 3 months with these playbooks "
        "live, 10 % of each held out; its customers react to what they receive, so the true effect is known:",
        highlight=False,
    )
    sim = simulate(ws.path / "simulation", customers=2_000, months=3, playbooks=folder, seed=ctx.seed)
    print_simulation(sim)


DEMO_STEPS: list[tuple[str, Callable[[DemoContext], None]]] = [
    ("Synthesise a business", _synthesise),
    ("Ingest it, validating every row", _ingest),
    ("Summarise the workspace", _summary),
    ("Train the churn model and list who is at risk", _predict),
    ("Refresh analytics", _refresh),
    ("Write the report", _report),
    ("Playbooks: who they would reach, and what a holdout measures", _playbooks),
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
