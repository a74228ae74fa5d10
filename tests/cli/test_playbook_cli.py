"""``retain playbook init|list|validate`` as a user runs them, in an 80-column terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from terminal80 import flat, run, too_long

from retain.automation.library import library_files
from retain.automation.loading import load_playbooks
from retain.workspace import Workspace

LIBRARY = {
    # name: (enabled, trigger as listed, priority, holdout)
    "dunning": ("no", "risk payment_failed", "90", "10%"),
    "complaint_help": ("no", "ticket", "85", "10%"),
    "service_recovery": ("no", "risk", "80", "10%"),
    "detractor_follow_up": ("no", "survey detractor", "75", "10%"),
    "price_offer": ("no", "risk price", "70", "10%"),
    "re_engagement": ("no", "risk disengaged", "60", "10%"),
    "onboarding_nudge": ("no", "onboarding feature_used", "45", "10%"),
    "welcome": ("no", "signup", "40", "10%"),
    "win_back_price": ("no", "churned price", "40", "10%"),
    "win_back": ("no", "churned", "35", "10%"),
    "wake_up": ("no", "inactive 30 d", "30", "10%"),
    "promoter_ask": ("no", "survey promoter", "25", "10%"),
    "birthday": ("no", "date birthday", "20", "10%"),
}


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A short relative path: a temporary folder's absolute path can be longer than a line, and Rich breaks it
    # anywhere, so messages that quote it could not be compared as text.
    monkeypatch.chdir(tmp_path)
    Workspace.init("shop")
    return Path("shop")


def _ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert too_long(result.output) == [], "\n" + "\n".join(too_long(result.output))
    return result.output


def _listed(output: str) -> dict[str, list[str]]:
    """The rows of ``playbook list``: columns are separated by 2+ spaces; a wrapped trigger continues below."""
    lines = [line for line in output.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    assert header.split() == ["name", "enabled", "trigger", "priority", "holdout", "version"]
    rows: dict[str, list[str]] = {}
    last = None
    for line in lines[1:]:
        if not line.startswith(" "):
            cells = re.split(r"\s{2,}", line.strip())
            rows[cells[0]] = cells[1:]
            last = cells[0]
        else:  # the trigger column wrapped onto this line
            assert last is not None and line[: starts[2]].strip() == ""
            rows[last][1] += " " + line.strip()
    return rows


def test_init_copies_the_library_once_then_is_up_to_date(ws, console_80):
    out = _ok("playbook", "init", "-w", str(ws))
    assert flat(out) == (
        f"Copied 54 file(s) into {ws}/playbooks: 13 playbook(s), 41 template file(s). "
        f"Next: retain playbook list -w {ws}"
    )
    assert sorted(p.relative_to(ws / "playbooks").as_posix() for p in (ws / "playbooks").rglob("*.*")) == sorted(
        library_files()
    )
    assert flat(_ok("playbook", "init", "-w", str(ws))) == (
        f"The built-in playbooks in {ws}/playbooks are up to date; nothing copied."
    )


def test_init_refuses_an_edited_file_unless_overwrite(ws, console_80):
    _ok("playbook", "init", "-w", str(ws))
    edited = ws / "playbooks" / "wake_up.yaml"
    edited.write_text(edited.read_text().replace("priority: 30", "priority: 31"))
    result = run("playbook", "init", "-w", str(ws))
    assert result.exit_code == 1
    assert too_long(result.output) == []
    # The temporary path is longer than a line: Rich breaks it anywhere, so compare without whitespace.
    assert "".join(result.output.split()) == "".join(
        f"error: Not copying the built-in playbooks: 1 file(s) differ from the library's version (edited?): "
        f"{edited.as_posix()}. Keep your changes, or replace them with the library's version with overwrite "
        "(`retain playbook init --overwrite`).".split()
    )
    out = _ok("playbook", "init", "-w", str(ws), "--overwrite")
    assert flat(out).startswith(f"Copied 1 file(s) into {ws}/playbooks: 1 playbook(s), 0 template file(s).")
    assert "priority: 30" in edited.read_text()


def test_list_shows_every_playbook_in_80_columns_highest_priority_first(ws, console_80):
    _ok("playbook", "init", "-w", str(ws))
    out = _ok("playbook", "list", "-w", str(ws))
    rows = _listed(out)
    versions = {p.name: p.version for p in load_playbooks(ws / "playbooks")}
    assert list(rows) == list(LIBRARY)
    assert rows == {name: [*LIBRARY[name], versions[name]] for name in LIBRARY}
    assert "…" not in out


def test_list_marks_enabled_playbooks_and_their_new_version(ws, console_80):
    _ok("playbook", "init", "-w", str(ws))
    path = ws / "playbooks" / "wake_up.yaml"
    path.write_text(
        path.read_text().replace("enabled: false", "enabled: true").replace("holdout: 0.1", "holdout: 0.25")
    )
    rows = _listed(_ok("playbook", "list", "-w", str(ws)))
    (loaded,) = [p for p in load_playbooks(ws / "playbooks") if p.name == "wake_up"]
    assert rows["wake_up"] == ["yes", "inactive 30 d", "30", "25%", loaded.version]


def test_list_and_validate_without_playbooks(ws, console_80):
    assert flat(_ok("playbook", "list", "-w", str(ws))) == (
        f"No playbooks in {ws}/playbooks; `retain playbook init -w {ws}` copies the built-in library."
    )
    assert flat(_ok("playbook", "validate", "-w", str(ws))) == (
        f"No playbooks to check in {ws}/playbooks; `retain playbook init -w {ws}` copies the built-in library."
    )


def test_validate_passes_on_the_library(ws, console_80):
    _ok("playbook", "init", "-w", str(ws))
    names = ", ".join(LIBRARY)
    assert flat(_ok("playbook", "validate", "-w", str(ws))) == f"13 valid playbook(s): {names}."


def test_validate_prints_every_problem_of_every_file_and_exits_1(ws, console_80):
    _ok("playbook", "init", "-w", str(ws))
    wake_up = ws / "playbooks" / "wake_up.yaml"
    wake_up.write_text(wake_up.read_text().replace("  days: 30\n", "  dayz: 30\n"))
    (ws / "playbooks" / "sms_blast.yaml").write_text(
        "name: sms_blast\ndescription: x.\ntrigger: {kind: signup}\nsteps: [{action: sms}]\n"
        "goal: {metric: retained, window_days: 30}\n"
    )
    result = run("playbook", "validate", "-w", str(ws))
    assert result.exit_code == 1
    assert too_long(result.output) == []
    assert flat(result.output) == flat(
        "error: playbooks/sms_blast.yaml: steps[0].action: 'sms' is not an action; valid: coupon, email, file, offer, "
        "points, survey, tag, task, webhook\n"
        "error: playbooks/wake_up.yaml: trigger.days: required key is missing; valid keys for trigger kind "
        "'inactive': activity, days, kind\n"
        "error: playbooks/wake_up.yaml: trigger.dayz: unknown key; valid keys for trigger kind 'inactive': activity, "
        "days, kind\n"
        "3 problem(s) in 2 file(s); 12 valid playbook(s)."
    )
    # list still shows the valid ones, reports the others and fails
    listed = run("playbook", "list", "-w", str(ws))
    assert listed.exit_code == 1
    assert "wake_up" not in _listed(listed.output.split("error:")[0])
    assert "error: playbooks/wake_up.yaml: trigger.dayz: unknown key" in flat(listed.output)


def test_validate_given_files_checks_only_those_and_names_them_as_given(ws, console_80, monkeypatch):
    _ok("playbook", "init", "-w", str(ws))
    (ws / "playbooks" / "broken.yaml").write_text("name: broken\n  x: [\n")
    monkeypatch.chdir(ws)
    assert flat(_ok("playbook", "validate", "-w", ".", "playbooks/wake_up.yaml", "playbooks/welcome.yaml")) == (
        "2 valid playbook(s): welcome, wake_up."
    )
    result = run("playbook", "validate", "-w", ".", "playbooks/broken.yaml", "playbooks/nope.yaml")
    assert result.exit_code == 1
    assert flat(result.output) == (
        "error: playbooks/broken.yaml: line 2, column 4: not valid YAML: mapping values are not allowed here "
        "error: playbooks/nope.yaml: no such file "
        "2 problem(s) in 2 file(s); 0 valid playbook(s)."
    )


def test_validate_checks_segment_names_against_retain_toml(ws, console_80):
    config = ws / "retain.toml"
    config.write_text(config.read_text().replace("[segments]\n", '[segments]\nbig = "total_revenue >= 500"\n'))
    folder = ws / "playbooks"
    text = (
        "name: {name}\ndescription: x.\ntrigger: {{kind: segment_entry, segment: {segment}}}\n"
        "steps: [{{action: tag, tag: vip}}]\ngoal: {{metric: orders, window_days: 30}}\n"
    )
    (folder / "vip.yaml").write_text(text.format(name="vip", segment="big"))
    (folder / "vip2.yaml").write_text(text.format(name="vip2", segment="huge"))
    result = run("playbook", "validate", "-w", str(ws))
    assert result.exit_code == 1
    assert flat(result.output) == (
        "error: playbooks/vip2.yaml: trigger.segment: 'huge' is not a segment of retain.toml; valid: big "
        "1 problem(s) in 1 file(s); 1 valid playbook(s)."
    )


@pytest.mark.parametrize("command", ["init", "list", "validate"])
def test_help_has_an_example_and_fits(command):
    result = run("playbook", command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and too_long(result.output) == []
