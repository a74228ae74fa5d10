"""What every command shares: the console, the workspace option and turning domain errors into messages."""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from retain.cli._safe import safe_markup
from retain.errors import InputError, NotFoundError, RetainError, RetainWarning

__all__ = ["WorkspaceOption", "console", "err_console", "fail", "handle_errors", "print_json", "progress_bar"]

# emoji=False: a ":name:" in a value from data must print as written, not as an emoji.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        envvar="RETAIN_WORKSPACE",
        help="Workspace folder (see `retain init`).",
        show_default="current folder",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as one red ``error:`` line on stderr and return the exit to raise.

    The message is printed literally: error messages quote input (ids, file names, predicates), which must
    neither be read as markup nor reach the terminal as control characters.
    """
    err_console.print(f"[bold red]error:[/] {safe_markup(message, keep_newlines=True)}", highlight=False)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Domain errors become one red line and exit code 2 (bad input, unknown id) or 1 (anything else)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RetainWarning)
            try:
                return func(*args, **kwargs)
            except (InputError, NotFoundError) as exc:
                raise fail(str(exc), 2) from None
            except RetainError as exc:
                raise fail(str(exc), 1) from None
            finally:
                _say_warnings(caught)

    return wrapper  # type: ignore[return-value]


def _say_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Warnings become one yellow line each ("warning: …"), not Python's file-and-line format."""
    seen: set[str] = set()
    for item in caught:
        text = str(item.message)
        if text not in seen:
            seen.add(text)
            err_console.print(f"[bold yellow]warning:[/] {safe_markup(text)}", highlight=False)


def default_workspace(path: Path | None) -> Path:
    return path if path is not None else Path(os.environ.get("RETAIN_WORKSPACE", "."))


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def print_json(data: object) -> None:
    console.print_json(json.dumps(data, default=str))
