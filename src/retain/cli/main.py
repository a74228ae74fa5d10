"""The ``retain`` command: a thin layer of Typer commands over the domain functions."""

from __future__ import annotations

import typer

from retain import __version__
from retain.cli import playbook_results_cmd  # noqa: F401  (registers `retain playbook results`)
from retain.cli._help import RetainCommand, RetainGroup
from retain.cli.analytics_cmds import cohorts, customer, metrics, refresh_cmd, report, segments
from retain.cli.bench_cmd import bench_app
from retain.cli.changes_cmd import changes
from retain.cli.demo_cmd import demo
from retain.cli.flush_cmd import flush
from retain.cli.ingest_cmd import ingest
from retain.cli.init_cmd import init, status
from retain.cli.model_cmds import at_risk, model_app
from retain.cli.playbook_cmds import playbook_app
from retain.cli.schema_cmd import schema
from retain.cli.serve_cmd import apikey_app, serve, user_app
from retain.cli.simulate_cmd import simulate_cmd
from retain.cli.synth_cmd import synth
from retain.cli.worker_cmd import worker

__all__ = ["app"]

app = typer.Typer(
    name="retain",
    cls=RetainGroup,
    help=(
        "Customer retention and churn management: ingest, analyse, predict, act.\n\n"
        "Start with the demo, or create a workspace and ingest your own data; every command's --help has "
        "examples.\n\n"
        "Examples:\n"
        "  retain demo\n"
        "  retain init shop\n"
        "  retain ingest orders orders.csv -w shop\n"
        "  retain refresh -w shop\n"
        "  retain metrics -w shop --freq quarter"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"retain {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """retain — see how many customers you keep, who is about to leave and why."""


for name, command in (
    ("demo", demo),
    ("init", init),
    ("status", status),
    ("schema", schema),
    ("ingest", ingest),
    ("flush", flush),
    ("synth", synth),
    ("refresh", refresh_cmd),
    ("metrics", metrics),
    ("cohorts", cohorts),
    ("segments", segments),
    ("customer", customer),
    ("report", report),
    ("changes", changes),
    ("worker", worker),
    ("simulate", simulate_cmd),
    ("serve", serve),
):
    app.command(name, cls=RetainCommand)(command)
app.add_typer(bench_app, name="bench")
app.add_typer(model_app, name="model")
app.add_typer(playbook_app, name="playbook")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.command("at-risk", cls=RetainCommand)(at_risk)
