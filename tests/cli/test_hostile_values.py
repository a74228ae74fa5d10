"""Values from data cannot break or hijack the output: markup, hyperlinks and terminal control stay text.

A workspace whose data was written by someone hostile: a customer id ``[/bold]`` (a closing tag Rich refuses
with ``MarkupError``), a ticket category ``[/]``, a name that is a ``[link=…]`` tag, plan names with an ANSI
colour and an OSC-8 hyperlink escape, an event type with a bidirectional override, and a user segment named
like markup (the segment parser refuses it; the refusal must quote it literally). Every command must exit 0,
show the values literally and print no ESC byte (CliRunner's output is not a terminal, so the CLI's own styling
emits none: any ESC would come from the data); on a colour terminal, no OSC-8 hyperlink.

At-risk is tested on a trained synthetic workspace whose every customer id carries markup, since scoring needs
a model trained on enough customers (see the second half).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from rich.console import ColorSystem
from terminal80 import cut_cells, flat, run, too_long

from retain.cli import _common
from retain.clock import FixedClock
from retain.synth import generate
from retain.workspace import Workspace

BOLD_ID = "[/bold]"
LINK_NAME = "[link=https://evil.example]click[/link]"
CATEGORY = "[/]"
ANSI_PLAN = "\x1b[31mred\x1b[0m"
OSC8_PLAN = "\x1b]8;;http://x.example\x1b\\pro\x1b]8;;\x1b\\"
BIDI_EVENT = "login\u202egnp.exe"
SEGMENT = "[red]vip"


def _hostile_workspace(path: Path) -> Path:
    ws = Workspace.init(path, clock=FixedClock(pd.Timestamp("2024-05-01T08:00:00Z").to_pydatetime()))
    frames = {
        "customers": pd.DataFrame(
            {
                "customer_id": [BOLD_ID, "c2"],
                "created_at": ["2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z"],
                "name": [LINK_NAME, "Plain Name"],
                "email": ["[b]@example.com", "c2@example.com"],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "subscription_id": ["s1", "s2"],
                "customer_id": [BOLD_ID, "c2"],
                "plan": [ANSI_PLAN, OSC8_PLAN],
                "mrr": [10.0, 20.0],
                "started_at": ["2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z"],
                "ended_at": [None, "2024-03-10T00:00:00Z"],
                "status": ["active", "canceled"],
                "churn_type": [None, "voluntary"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["[o1]", "o2"],
                "customer_id": [BOLD_ID, "c2"],
                "ordered_at": ["2024-01-10T00:00:00Z", "2024-02-01T00:00:00Z"],
                "amount": [100.0, 80.0],
                "status": ["completed", "completed"],
            }
        ),
        "tickets": pd.DataFrame(
            {
                "ticket_id": ["t1"],
                "customer_id": [BOLD_ID],
                "opened_at": ["2024-02-01T00:00:00Z"],
                "category": [CATEGORY],
                "is_complaint": [True],
            }
        ),
        "events": pd.DataFrame(
            {"customer_id": [BOLD_ID], "event_type": [BIDI_EVENT], "occurred_at": ["2024-04-15T12:00:00Z"]}
        ),
    }
    for table, frame in frames.items():
        result = ws.ingest(table, frame)
        assert result.rows_rejected == 0, (table, result)
    config = path / "retain.toml"
    config.write_text(config.read_text().replace("[segments]\n", f'[segments]\n"{SEGMENT}" = "orders >= 1"\n'))
    refreshed = run("refresh", "-w", str(path))
    assert refreshed.exit_code == 0, refreshed.output
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return _hostile_workspace(tmp_path_factory.mktemp("hostile") / "ws")


def _safe_run(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert too_long(out) == [] and cut_cells(out) == []
    return out


def test_customer_360_of_a_hostile_customer_shows_every_value_literally(hostile, console_80):
    out = _safe_run("customer", BOLD_ID, "-w", str(hostile))
    text = flat(out)
    assert f"Customer {BOLD_ID} (as of 2024-04-15)" in text
    assert LINK_NAME in text and "[b]@example.com" in text  # not a hyperlink, not bold: the text as stored
    assert f"Ticket t1 opened: {CATEGORY}" in text
    assert "\\x1b[31mred\\x1b[0m" in text  # the plan's escape shown, not executed
    assert "login\\u202egnp.exe" in text  # the bidirectional override shown, the text not reversed
    assert "Order [o1]" in text


def test_refresh_names_a_refused_segment_literally(hostile, console_80):
    said = flat(_safe_run("refresh", "-w", str(hostile)))
    # Segment names cannot hold markup (the parser refuses them); the refusal quotes the name as written.
    assert f"segment {SEGMENT} skipped: Invalid segment name '{SEGMENT}'" in said


def test_segments_metrics_status_and_cohorts_of_the_hostile_workspace(hostile, console_80):
    segments = flat(_safe_run("segments", "-w", str(hostile)))
    assert "Lifecycle states" in segments and "active 1 50.0%" in segments
    metrics = flat(_safe_run("metrics", "-w", str(hostile)))
    assert "retention" in metrics and "MRR at end" in metrics
    _safe_run("status", "-w", str(hostile))
    _safe_run("cohorts", "-w", str(hostile))


def test_no_hyperlink_reaches_a_colour_terminal(hostile, console_80):
    consoles = (_common.console, _common.err_console)
    saved = [(c._force_terminal, c._color_system) for c in consoles]
    for console in consoles:  # what a real terminal gets: styles and, for [link] markup, OSC-8 sequences
        console._force_terminal, console._color_system = True, ColorSystem.TRUECOLOR
    try:
        result = run("customer", BOLD_ID, "-w", str(hostile))
    finally:
        for console, (force, system) in zip(consoles, saved, strict=True):
            console._force_terminal, console._color_system = force, system
    assert result.exit_code == 0, result.output
    assert "\x1b[" in result.output  # the CLI's own styling is there …
    assert "\x1b]8;" not in result.output  # … but no hyperlink, neither from [link] markup nor from the data
    assert "\x1b[31m" not in result.output  # and not the data's red


def test_error_messages_quote_input_literally(hostile, console_80):
    for wanted in (LINK_NAME, "[/]", "\x1b[31mX"):
        result = run("customer", wanted, "-w", str(hostile))
        assert result.exit_code == 2
        assert "\x1b" not in result.output
        assert "No customer" in result.output
    said = flat(run("customer", LINK_NAME, "-w", str(hostile)).output)
    assert LINK_NAME in said
    assert "\\x1b[31mX" in flat(run("customer", "\x1b[31mX", "-w", str(hostile)).output)


def test_json_keeps_the_values_and_escapes_the_control_characters(hostile):
    result = run("customer", BOLD_ID, "-w", str(hostile), "--format", "json")
    assert result.exit_code == 0 and "\x1b" not in result.output
    data = json.loads(result.output)
    assert data["profile"]["customer_id"] == BOLD_ID and data["profile"]["name"] == LINK_NAME
    assert data["profile"]["plan"] == ANSI_PLAN  # JSON carries the exact value, \u001b-escaped


# ------------------------------------------------------------------ at-risk: hostile ids through scoring
def _hostile_synthetic(root: Path) -> Path:
    """600 synthetic customers whose ids all carry markup and whose plan names carry an ANSI escape."""
    synthetic = root / "synthetic"
    generate(synthetic, customers=600, model="subscription", seed=3, months=15, end=date(2025, 12, 31))
    ws = Workspace.init(root / "ws", clock=FixedClock(pd.Timestamp("2026-01-05T12:00:00Z").to_pydatetime()))
    for file in sorted(synthetic.glob("*.parquet")):
        frame = pd.read_parquet(file)
        if "customer_id" in frame:
            frame["customer_id"] = "[/bold]" + frame["customer_id"].astype(str)
        if "plan" in frame:
            frame["plan"] = "\x1b[31m" + frame["plan"].astype(str)
        ws.ingest(file.stem, frame)
    trained = run("model", "train", "-w", str(ws.path))
    assert trained.exit_code == 0, trained.output
    return ws.path


def test_at_risk_with_hostile_ids_and_plans(tmp_path, console_80):
    path = _hostile_synthetic(tmp_path)
    expected = json.loads(run("at-risk", "-w", str(path), "--top", "5", "--format", "json").output)["customers"]
    assert all(row["customer_id"].startswith("[/bold]C") for row in expected)
    out = _safe_run("at-risk", "-w", str(path), "--top", "5")
    for row in expected:
        assert row["customer_id"] in out  # whole, literal, on one line
    # The plan is static context (never a reason): shown in the context column, the escape as text.
    plans = [row["context"] for row in expected if "\x1b[31m" in (row["context"] or "")]
    assert plans
    context = _safe_run("at-risk", "-w", str(path), "--top", "5", "--columns", "rank,customer_id,context")
    for text in plans:
        assert text.replace("\x1b", "\\x1b") in flat(context)
