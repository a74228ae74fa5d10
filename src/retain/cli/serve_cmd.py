"""``retain serve``, ``retain apikey …`` and ``retain user set``: the web service and who may use it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from retain.cli._common import WorkspaceOption, console, err_console, fail, handle_errors
from retain.cli._help import RetainCommand, RetainGroup
from retain.cli._safe import safe_markup
from retain.cli._tables import Col, fit_table
from retain.services.auth import ApiScope, create_api_key, list_api_keys, revoke_api_key, set_user
from retain.workspace import Workspace

__all__ = ["apikey_app", "serve", "user_app"]

apikey_app = typer.Typer(
    cls=RetainGroup,
    help="API keys for `retain serve`: create (shown once), list, revoke.\n\n"
    "Examples:\n  retain apikey create --name 'crm sync' --scope write\n  retain apikey revoke 3f9a1c2e",
    no_args_is_help=True,
)
user_app = typer.Typer(
    cls=RetainGroup,
    help="Dashboard users who sign in with a password.\n\nExample:\n  retain user set alice --scope write",
    no_args_is_help=True,
)

ScopeOption = Annotated[
    ApiScope, typer.Option("--scope", help="read: look; write: also send facts and change tasks; admin: everything.")
]


@handle_errors
def serve(
    workspace: WorkspaceOption = Path("."),
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: [service] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: [service] port).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Server processes (default: [service] workers; >1 needs PostgreSQL).")
    ] = None,
) -> None:
    """Serve the REST API and the dashboard (/dashboard/) of a workspace (FastAPI under uvicorn).

    The OpenAPI document is at /v1/openapi.json; every route except /health and signed customer links needs an
    API key (`retain apikey create`) or a dashboard sign-in (`retain user set`). Ctrl-C stops.

    Examples:
      retain serve -w shop
      retain serve -w shop --host 0.0.0.0 --port 8080
      retain serve -w shop --workers 4
    """
    import uvicorn

    from retain.api.main import WORKSPACE_VARIABLE

    ws = Workspace.open(workspace)  # fails here, with retain's message, rather than inside each server process
    settings = ws.settings.service
    processes = workers or settings.workers
    if processes > 1 and ws.state.dialect.name == "sqlite":
        raise fail(
            f"{processes} server processes need a PostgreSQL state database (SQLite allows one writer); set "
            "database_url in retain.toml, or use --workers 1."
        )
    os.environ[WORKSPACE_VARIABLE] = str(ws.path.resolve())
    bind_host, bind_port = host or settings.host, port or settings.port
    err_console.print(f"retain serving {ws.path} on http://{bind_host}:{bind_port} ({processes} process(es))")
    uvicorn.run(
        "retain.api.main:app_from_environment",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=processes,
        log_level="warning",
    )


@apikey_app.command("create", cls=RetainCommand)
@handle_errors
def apikey_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. 'crm sync'.")],
    scope: ScopeOption = ApiScope.READ,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Create an API key and print it once (only its hash is kept: store it now).

    Examples:
      retain apikey create --name 'crm sync' --scope write
      retain apikey create --name 'wall screen' --scope read -w shop
    """
    made = create_api_key(Workspace.open(workspace), name=name, scope=scope)
    err_console.print(
        f"Created {made.key.scope.value} key {made.key.prefix} ({safe_markup(made.key.name)}). It is shown once:",
        highlight=False,
    )
    print(made.secret)  # plain stdout, nothing else on it: `KEY=$(retain apikey create …)` works


@apikey_app.command("list", cls=RetainCommand)
@handle_errors
def apikey_list(workspace: WorkspaceOption = Path(".")) -> None:
    """List the API keys (never their secrets).

    Example: retain apikey list -w shop
    """
    keys = list_api_keys(Workspace.open(workspace))
    if not keys:
        console.print("No API keys yet: `retain apikey create --name NAME --scope read`.")
        return
    columns = [Col("prefix", "prefix"), Col("name", "name"), Col("scope", "scope"), Col("created", "created")]
    columns += [Col("last used", "last used"), Col("revoked", "revoked")]
    rows = [
        [
            k.prefix,
            k.name,
            k.scope.value,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        ]
        for k in keys
    ]
    console.print(fit_table(columns, rows, width=console.width, title="API keys"))


@apikey_app.command("revoke", cls=RetainCommand)
@handle_errors
def apikey_revoke(
    key: Annotated[str, typer.Argument(help="The key's prefix (from `retain apikey list`), id or name.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Revoke an API key: requests with it get 401 from now on.

    Example: retain apikey revoke 3f9a1c2e -w shop
    """
    for k in revoke_api_key(Workspace.open(workspace), key):
        console.print(f"Revoked {k.prefix} ({safe_markup(k.name)}).", highlight=False)


@user_app.command("set", cls=RetainCommand)
@handle_errors
def user_set(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    scope: ScopeOption = ApiScope.READ,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of prompting.")
    ] = False,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Create a dashboard user or change their password and scope (the password is stored as an argon2 hash).

    Examples:
      retain user set alice --scope write
      printf '%s' "$PASSWORD" | retain user set robot --password-stdin
    """
    if password_stdin:
        password = sys.stdin.read().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = set_user(Workspace.open(workspace), username, password, scope=scope)
    console.print(f"{'Created' if created else 'Updated'} {scope.value} user {safe_markup(username)}.", highlight=False)
