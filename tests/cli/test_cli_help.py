"""Every ``retain … --help`` at 80 columns: an example, flags shown as flags, the choices of every choice option."""

from __future__ import annotations

import inspect
import typing
from enum import Enum

import pytest
import typer.main
from terminal80 import WIDTH, flat, run, too_long

from retain.cli._help import reflow_help
from retain.cli.main import app


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(typer.main.get_command(app)))
NAMES = [" ".join(path) or "retain" for path in COMMANDS]


def _enum(annotation) -> type[Enum] | None:
    """The Enum an option's annotation chooses from (through Annotated, Optional and list), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    for argument in typing.get_args(annotation):
        if found := _enum(argument):
            return found
    return None


def _choice_parameters(command) -> dict[str, type[Enum]]:
    callback = getattr(command, "callback", None)
    if callback is None:
        return {}
    hints = typing.get_type_hints(inspect.unwrap(callback), include_extras=True)
    return {name: enum for name, hint in hints.items() if name != "return" and (enum := _enum(hint))}


def _bool_parameters(command) -> list[str]:
    """The flags of ``command`` as declared (``--all`` for a parameter named ``everyone``), from its bool hints."""
    callback = getattr(command, "callback", None)
    if callback is None:
        return []
    hints = typing.get_type_hints(inspect.unwrap(callback), include_extras=True)
    flags = []
    for name, hint in hints.items():
        if typing.get_origin(hint) is typing.Annotated and typing.get_args(hint)[0] is bool:
            # In Annotated, typer.Option("--all", ...) keeps the first name as its ``default``, the rest as decls.
            infos = typing.get_args(hint)[1:]
            declared = [getattr(i, "default", None) for i in infos] + [d for i in infos for d in i.param_decls or ()]
            declared = [d for d in declared if isinstance(d, str)]
            flags.append(next((d for d in declared if d.startswith("--")), "--" + name.replace("_", "-")))
        elif hint is bool:
            flags.append("--" + name.replace("_", "-"))
    return flags


def test_the_walk_finds_every_command():
    assert {
        "retain",
        "metrics",
        "at-risk",
        "model train",
        "model backtest-synthetic",
        "bench analytics",
        "bench api",
    } <= set(NAMES)
    playbook = {f"playbook {name}" for name in ("init", "list", "validate", "results", "run", "preview", "backtest")}
    assert playbook | {"worker", "simulate"} <= set(NAMES)
    assert len(NAMES) == 45


@pytest.mark.parametrize("path", list(COMMANDS), ids=NAMES)
def test_help_has_an_example_shows_flags_as_flags_and_lists_every_choice(path):
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Example" in out
    assert "<bool>" not in out
    assert too_long(out) == []
    command = COMMANDS[path]
    text = flat(out).replace(" | ", "|")
    for name, enum in _choice_parameters(command).items():
        for member in enum:
            assert member.value in text, (name, member.value)
    for flag in _bool_parameters(command):
        assert flag in text, flag


@pytest.mark.parametrize("path", list(COMMANDS), ids=NAMES)
def test_every_example_is_a_retain_command_that_fits_one_line(path):
    help_text = COMMANDS[path].help or ""
    examples = help_text[help_text.index("Example") :].split("\n")
    commands = [line.removeprefix("Example:").strip() for line in examples if "retain" in line]
    assert commands, help_text
    for line in commands:
        assert "retain " in line and len(line) <= WIDTH - 6, line  # 2 + 2 of indentation, 2 of margin


def test_choice_options_refuse_other_values_and_name_the_valid_ones():
    refused = run("cohorts", "--measure", "seats")
    assert refused.exit_code == 2 and "'seats' is not one of 'logo', 'revenue'" in flat(refused.output)
    refused = run("bench", "analytics", "--customers", "100", "--job", "everything")
    assert refused.exit_code == 2 and "'refresh', 'metrics', 'pandas'" in flat(refused.output)
    refused = run("model", "backtest-synthetic", "--model", "saas")
    assert refused.exit_code == 2 and "'commerce', 'subscription'" in flat(refused.output)
    refused = run("synth", "out", "--format", "xlsx")
    assert refused.exit_code == 2 and "'csv', 'parquet'" in flat(refused.output)


def test_flags_take_no_value():
    help_text = flat(run("cohorts", "--help").output)
    assert "--shares Show shares of the cohort size" in help_text  # no type between the flag and its help
    main = run("--help").output
    assert "<bool>" not in main and "--version Show the version." in flat(main)


def test_help_paragraphs_are_reflowed_and_examples_kept_as_written():
    assert reflow_help("One\nparagraph.\n\nExamples:\n  retain a\n  retain b") == (
        "One paragraph.\n\nExamples:\n  retain a\n  retain b"
    )
    out = run("--help").output
    assert "retain demo" in [line.strip() for line in out.splitlines()]  # an example on a line of its own
