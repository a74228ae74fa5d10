"""Reading playbook files: the exact message for each kind of bad file, versions, order, every bad file at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from retain.automation.loading import (
    MAX_PLAYBOOK_BYTES,
    PlaybookError,
    check_playbooks,
    load_playbook,
    load_playbooks,
    playbook_version,
)
from retain.errors import InputError

GOOD = """\
name: wake_up
description: Wake up customers with no login or order for 30 days.
priority: 30
trigger:
  kind: inactive
  days: 30
steps:
  - action: email
    template: wake_up
goal:
  metric: retained
  window_days: 30
"""

TEMPLATES = {
    "wake_up.subject.j2": "We miss you, {{ customer.name }}",
    "wake_up.txt.j2": "Hi {{ customer.name }}\n\nUnsubscribe: {{ unsubscribe_url }}\n",
    "wake_up.html.j2": '<p>Hi {{ customer.name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace-like folder: playbooks/ with the templates of wake_up."""
    templates = tmp_path / "playbooks" / "templates"
    templates.mkdir(parents=True)
    for name, text in TEMPLATES.items():
        (templates / name).write_text(text)
    return tmp_path


def _write(ws: Path, name: str, text: str | bytes) -> Path:
    path = ws / "playbooks" / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _problems(ws: Path, name: str, text: str | bytes) -> list[str]:
    path = _write(ws, name, text)
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path, relative_to=ws)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_a_good_file_loads_with_its_content_hash_as_version(ws):
    path = _write(ws, "wake_up.yaml", GOOD)
    loaded = load_playbook(path, relative_to=ws)
    assert loaded.name == "wake_up" and loaded.path == path
    assert loaded.version == playbook_version(GOOD.encode()) and len(loaded.version) == 12
    assert loaded.templates_folder == ws / "playbooks" / "templates"
    assert loaded.version == hashlib.sha256(GOOD.encode()).hexdigest()[:12]


def test_the_version_changes_with_the_content_and_not_with_the_path(ws, tmp_path_factory):
    first = load_playbook(_write(ws, "wake_up.yaml", GOOD))
    elsewhere = tmp_path_factory.mktemp("moved")
    (elsewhere / "templates").mkdir()
    for name, text in TEMPLATES.items():
        (elsewhere / "templates" / name).write_text(text)
    (elsewhere / "wake_up.yaml").write_text(GOOD)
    assert load_playbook(elsewhere / "wake_up.yaml").version == first.version
    edited = load_playbook(_write(ws, "wake_up.yaml", GOOD.replace("priority: 30", "priority: 31")))
    assert edited.version != first.version
    comment = load_playbook(_write(ws, "wake_up.yaml", GOOD + "# a comment is a change too\n"))
    assert comment.version not in (first.version, edited.version)


def test_unknown_trigger_key_names_the_valid_keys_of_that_kind(ws):
    text = GOOD.replace("  days: 30", "  dayz: 30")
    assert _problems(ws, "wake_up.yaml", text) == [
        "playbooks/wake_up.yaml: trigger.days: required key is missing; valid keys for trigger kind 'inactive': "
        "activity, days, kind",
        "playbooks/wake_up.yaml: trigger.dayz: unknown key; valid keys for trigger kind 'inactive': "
        "activity, days, kind",
    ]


def test_unknown_action_lists_the_actions(ws):
    text = GOOD.replace("    template: wake_up\n", "    template: wake_up\n  - action: sms\n")
    assert _problems(ws, "wake_up.yaml", text) == [
        "playbooks/wake_up.yaml: steps[1].action: 'sms' is not an action; valid: coupon, email, file, offer, points, "
        "survey, tag, task, webhook"
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "  kind: inactive\n",
            "  kind: sleepy\n",
            "trigger.kind: 'sleepy' is not a trigger kind; valid: churned, date, event, inactive, lifecycle, "
            "onboarding, risk, segment_entry, signup, survey, ticket",
        ),
        (
            "  kind: inactive\n",
            "",
            "trigger.kind: required key is missing; valid: churned, date, event, inactive, lifecycle, onboarding, "
            "risk, segment_entry, signup, survey, ticket",
        ),
        (
            "  days: 30\n",
            "  days: 30\n  activity: mail\n",
            "trigger.activity: 'mail' is not valid; valid: any, login, order",
        ),
        (
            "  metric: retained\n",
            "  metric: retaind\n",
            "goal.metric: 'retaind' is not valid; valid: logins, orders, retained, revenue",
        ),
        ("priority: 30\n", "priority: 150\n", "priority: invalid value 150: input should be less than or equal to 100"),
        (
            "priority: 30\n",
            "priority: 30\nholdout: 0.7\n",
            "holdout: invalid value 0.7: input should be less than or equal to 0.5",
        ),
        (
            "priority: 30\n",
            "priority: 30\ncolour: red\n",
            "colour: unknown key; valid keys: conditions, description, "
            "enabled, goal, holdout, name, priority, reentry, steps, trigger",
        ),
        ("  window_days: 30\n", "  window_days: 30\n  x: 1\n", "goal.x: unknown key; valid keys: metric, window_days"),
        (
            "    template: wake_up\n",
            "    template: wake_up\n    delay: 3x\n",
            "steps[0].delay: '3x' is not a delay; write a whole number of days or hours, e.g. 0d, 3d or 12h",
        ),
        (
            "    template: wake_up\n",
            "    template: Wake\n",
            "steps[0].template: 'Wake' is not valid; use 1-64 lowercase letters, digits and _ (e.g. wake_up)",
        ),
        (
            "    template: wake_up\n",
            "    channel: email\n",
            "steps[0].template: required key is missing; valid keys for action 'email': action, channel, delay, "
            "recheck, template",
        ),
        (
            "  - action: email\n    template: wake_up\n",
            "  - nope\n",
            "steps[0]: expected a mapping whose 'action' is one of: coupon, email, file, offer, points, survey, tag, "
            "task, webhook; got 'nope'",
        ),
        (
            "  - action: email\n    template: wake_up\n",
            "  - kind: email\n",
            "steps[0].action: required key is missing; valid: coupon, email, file, offer, points, survey, tag, task, "
            "webhook",
        ),
        ("steps:\n  - action: email\n    template: wake_up\n", "steps: []\n", "steps: needs at least 1 item(s); got 0"),
        (
            "steps:\n  - action: email\n    template: wake_up\n",
            "steps:\n  action: email\n",
            "steps: expected a list (one '- ' line per item); got {'action': 'email'}",
        ),
        (
            "trigger:\n  kind: inactive\n  days: 30\n",
            "trigger: inactive\n",
            "trigger: expected a mapping whose 'kind' is one of: churned, date, event, inactive, lifecycle, "
            "onboarding, risk, segment_entry, signup, survey, ticket; got 'inactive'",
        ),
        (
            "trigger:\n  kind: inactive\n  days: 30\n",
            "trigger:\n  kind: risk\n  min_p_churn: 0.3\n  reason: pricey\n",
            "trigger.reason: 'pricey' is not valid; valid: disengaged, dissatisfied, early_life, low_adoption, "
            "missing_feature, moved, no_longer_needed, other, payment_failed, poor_service, price, product_quality, "
            "renewal_risk, switched_competitor",
        ),
        (
            "priority: 30\n",
            "priority: 30\nreentry:\n  rule: after_days\n",
            "reentry: rule after_days needs days (e.g. days: 90)",
        ),
        (
            "    template: wake_up\n",
            "    template: wake_up\n  - action: coupon\n    prefix: X\n",
            "steps[1]: give exactly one of percent_off (e.g. 20 for 20 %) and amount_off (e.g. 10)",
        ),
        (
            "    template: wake_up\n",
            "    template: wake_up\n  - action: task\n    title: '{{ custmer.name }}'\n",
            "steps[1].title: unknown name 'custmer'; a template can use: customer, playbook, trigger, unsubscribe_url, "
            "offer, coupon, survey_url",
        ),
        (
            "priority: 30\n",
            "priority: 30\nenabled: maybe\n",
            "enabled: invalid value 'maybe': input should be a valid boolean, unable to interpret input",
        ),
    ],
)
def test_each_kind_of_bad_value_gives_its_message(ws, old, new, problem):
    assert old in GOOD
    assert _problems(ws, "wake_up.yaml", GOOD.replace(old, new)) == [f"playbooks/wake_up.yaml: {problem}"]


def test_a_bad_condition_names_the_valid_columns(ws):
    (problem,) = _problems(ws, "wake_up.yaml", GOOD + "conditions: \"lifecycle_stage = 'churned'\"\n")
    assert problem.startswith(
        "playbooks/wake_up.yaml: conditions: condition \"lifecycle_stage = 'churned'\" is not allowed: unknown column "
        "'lifecycle_stage' (did you mean 'lifecycle_state'?). Allowed columns: customer_id, name, email, country,"
    )


def test_name_must_equal_the_file_stem(ws):
    assert _problems(ws, "wake_up.yaml", GOOD.replace("name: wake_up", "name: wakeup")) == [
        "playbooks/wake_up.yaml: name: 'wakeup' does not match the file name wake_up.yaml; set name: wake_up or "
        "rename the file to wakeup.yaml"
    ]


def test_yaml_syntax_errors_give_line_and_column(ws):
    text = GOOD.replace("priority: 30\n", "priority: 30\n  oops: [\n")  # line 4; its ':' is column 7
    assert _problems(ws, "wake_up.yaml", text) == [
        "playbooks/wake_up.yaml: line 4, column 7: not valid YAML: mapping values are not allowed here"
    ]


def test_a_key_given_twice_is_refused_rather_than_the_last_one_silently_winning(ws):
    assert GOOD.count("\n") == 12
    assert _problems(ws, "wake_up.yaml", GOOD + "priority: 90\n") == [
        "playbooks/wake_up.yaml: line 13, column 1: not valid YAML: key 'priority' appears twice"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "",
            "the file is empty; a playbook is a mapping with the keys conditions, description, enabled, goal, "
            "holdout, name, priority, reentry, steps, trigger",
        ),
        (
            "# only a comment\n",
            "the file is empty; a playbook is a mapping with the keys conditions, description, "
            "enabled, goal, holdout, name, priority, reentry, steps, trigger",
        ),
        (
            "- name: wake_up\n",
            "expected a mapping of keys (conditions, description, enabled, goal, holdout, name, "
            "priority, reentry, steps, trigger) at the top; got list",
        ),
        (
            "just text\n",
            "expected a mapping of keys (conditions, description, enabled, goal, holdout, name, priority, "
            "reentry, steps, trigger) at the top; got str",
        ),
    ],
)
def test_a_document_that_is_not_a_mapping(ws, text, problem):
    assert _problems(ws, "wake_up.yaml", text) == [f"playbooks/wake_up.yaml: {problem}"]


def test_a_file_over_256_kb_is_refused_unread(ws):
    text = GOOD + "#" * (MAX_PLAYBOOK_BYTES - len(GOOD)) + "\n"
    assert _problems(ws, "wake_up.yaml", text) == [
        f"playbooks/wake_up.yaml: {len(text):,} bytes is over the 262,144-byte limit of a playbook file; move long "
        "texts into its templates"
    ]
    exactly = GOOD + "#" * (MAX_PLAYBOOK_BYTES - len(GOOD) - 1) + "\n"
    assert len(exactly) == MAX_PLAYBOOK_BYTES
    assert load_playbook(_write(ws, "wake_up.yaml", exactly)).name == "wake_up"


def test_not_utf8(ws):
    assert _problems(ws, "wake_up.yaml", GOOD.encode() + b"# caf\xe9\n") == [
        f"playbooks/wake_up.yaml: not UTF-8 text (byte {len(GOOD) + 5}); save it as UTF-8"
    ]


def test_a_value_built_from_yaml_aliases_is_shown_short(ws):
    # Each level repeats the one below 9 times: the value is huge when expanded, its message a line.
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    text = GOOD + "extra:\n  " + bomb.replace("\n", "\n  ").rstrip() + "\n"
    (problem,) = _problems(ws, "wake_up.yaml", text)
    assert problem.startswith("playbooks/wake_up.yaml: extra: unknown key; valid keys: conditions")
    assert len(problem) < 200


def test_a_missing_template_and_a_template_that_does_not_parse(ws):
    (ws / "playbooks" / "templates" / "wake_up.txt.j2").unlink()
    (ws / "playbooks" / "templates" / "wake_up.html.j2").write_text("<p>\n{% if customer.name %}\n</p>\n")
    assert _problems(ws, "wake_up.yaml", GOOD) == [
        "playbooks/wake_up.yaml: steps[0].template: template 'wake_up' has no templates/wake_up.txt.j2; an email "
        "template needs wake_up.subject.j2, wake_up.txt.j2 (and optionally wake_up.html.j2) in templates/",
        "playbooks/wake_up.yaml: steps[0].template: templates/wake_up.html.j2, line 3: template syntax error: "
        "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The "
        "innermost block that needs to be closed is 'if'.",
    ]


def test_a_template_reading_a_name_the_context_lacks(ws):
    (ws / "playbooks" / "templates" / "wake_up.subject.j2").write_text("Hi {{ user.name }}")
    assert _problems(ws, "wake_up.yaml", GOOD) == [
        "playbooks/wake_up.yaml: steps[0].template: templates/wake_up.subject.j2: unknown name 'user'; a template "
        "can use: customer, playbook, trigger, unsubscribe_url, offer, coupon, survey_url"
    ]


def test_the_html_part_is_optional(ws):
    (ws / "playbooks" / "templates" / "wake_up.html.j2").unlink()
    assert load_playbook(_write(ws, "wake_up.yaml", GOOD)).name == "wake_up"


def test_a_folder_reports_every_bad_file_and_sorts_the_good_ones_by_priority_then_name(ws):
    for name, priority in (("b_first", 60), ("a_second", 60), ("c_last", 10)):
        _write(ws, f"{name}.yaml", GOOD.replace("name: wake_up", f"name: {name}").replace("30\n", f"{priority}\n", 1))
    assert [p.name for p in load_playbooks(ws / "playbooks")] == ["a_second", "b_first", "c_last"]
    _write(ws, "bad_one.yaml", GOOD.replace("name: wake_up", "name: bad_one").replace("kind: inactive", "kind: x"))
    _write(ws, "bad_two.yaml", "- a list\n")
    _write(ws, "old.yml", GOOD)
    _write(ws, ".hidden.yaml", "not even looked at: [")
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(ws / "playbooks", relative_to=ws)
    assert [p.split(": ", 2)[:2] for p in caught.value.problems] == [
        ["playbooks/bad_one.yaml", "trigger.kind"],
        [
            "playbooks/bad_two.yaml",
            "expected a mapping of keys (conditions, description, enabled, goal, holdout, name, "
            "priority, reentry, steps, trigger) at the top; got list",
        ],
        ["playbooks/old.yml", "a playbook file ends in .yaml; rename it to old.yaml"],
    ]
    check = check_playbooks(sorted((ws / "playbooks").glob("*.y*ml")), relative_to=ws)
    assert [p.name for p in check.playbooks] == ["a_second", "b_first", "c_last"] and not check.ok


def test_two_files_with_one_name_are_a_problem_of_the_second(ws, tmp_path_factory):
    first = _write(ws, "wake_up.yaml", GOOD)
    other = tmp_path_factory.mktemp("other")
    (other / "templates").mkdir()
    for name, text in TEMPLATES.items():
        (other / "templates" / name).write_text(text)
    (other / "wake_up.yaml").write_text(GOOD)
    check = check_playbooks([first, other / "wake_up.yaml"], relative_to=ws)
    assert [p.path for p in check.playbooks] == [first]
    assert check.problems == [
        f"{(other / 'wake_up.yaml').as_posix()}: name: 'wake_up' is also the name of playbooks/wake_up.yaml; each "
        "playbook needs a name of its own"
    ]


def test_a_segment_entry_trigger_must_name_a_segment_of_the_settings(ws):
    text = GOOD.replace("  kind: inactive\n  days: 30\n", "  kind: segment_entry\n  segment: big\n")
    path = _write(ws, "wake_up.yaml", text)
    assert check_playbooks([path], relative_to=ws, segments={"big", "quiet"}).ok
    assert check_playbooks([path], relative_to=ws).ok  # segments unknown: not checked
    assert check_playbooks([path], relative_to=ws, segments={"quiet", "loyal"}).problems == [
        "playbooks/wake_up.yaml: trigger.segment: 'big' is not a segment of retain.toml; valid: loyal, quiet"
    ]
    assert check_playbooks([path], relative_to=ws, segments=set()).problems == [
        "playbooks/wake_up.yaml: trigger.segment: 'big' is not defined; retain.toml has no [segments]"
    ]


def test_a_missing_file_or_folder(ws):
    assert check_playbooks([ws / "playbooks" / "nope.yaml"], relative_to=ws).problems == [
        "playbooks/nope.yaml: no such file"
    ]
    with pytest.raises(InputError, match="is not a folder of playbooks; create it with `retain playbook init`"):
        load_playbooks(ws / "nowhere")
