"""Running the CLI in an 80-column terminal and checking what a person would see.

Import with ``from terminal80 import ...`` (tests/cli is on sys.path for its tests). Use with the ``console_80``
fixture of conftest.py, which pins the width of the CLI's own consoles; ``COLUMNS`` here reaches the ``--help``
screens, which Typer renders on a console of its own.
"""

from __future__ import annotations

import re

from typer.testing import CliRunner, Result

from retain.cli.main import app

WIDTH = 80
runner = CliRunner(env={"COLUMNS": str(WIDTH)})

_BOX = re.compile("[\u2500-\u257f]")  # box-drawing characters


def run(*args: str) -> Result:
    """``retain *args`` in an 80-column terminal; exceptions propagate (a crash is a failure, not exit 1)."""
    return runner.invoke(app, list(args), catch_exceptions=False)


def too_long(output: str, width: int = WIDTH) -> list[str]:
    """The lines of ``output`` wider than ``width``."""
    return [line for line in output.splitlines() if len(line) > width]


def cut_cells(output: str) -> list[str]:
    """Table lines of ``output`` with a ``…``: what Rich shows for a cell it had to cut."""
    return [line for line in output.splitlines() if "…" in line and ("│" in line or "┃" in line)]


def flat(output: str) -> str:
    """``output`` without table borders and with all whitespace runs as one space: text as it reads."""
    return " ".join(_BOX.sub(" ", output).split())


def cells(output: str) -> list[list[str]]:
    """The rows of the tables in ``output`` as lists of stripped cell texts (lines with ``│`` or ``┃``)."""
    rows = []
    for line in output.splitlines():
        if "│" in line or "┃" in line:
            rows.append([cell.strip() for cell in re.split("[│┃]", line)[1:-1]])
    return rows
