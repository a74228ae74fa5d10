"""Every ``retain … --help`` at 80 columns: an example, flags shown as flags, the choices of every choice option."""

from __future__ import annotations

from terminal80 import flat, run, too_long

from retain.cli._help import reflow_help


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
    assert too_long(out) == []
    assert "retain demo" in [line.strip() for line in out.splitlines()]  # an example on a line of its own
