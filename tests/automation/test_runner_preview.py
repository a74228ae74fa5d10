"""Preview and backtest: the exact numbers on hand-written timelines, and not one row or file written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from runner_builders import EMAIL, make_workspace, playbook_text

from retain.automation.arms import arm, arm_salt
from retain.errors import InputError, NotFoundError
from retain.services.playbook_preview import backtest_playbook, preview_playbook
from retain.services.playbook_run import SECRET_FILE, run_playbooks
from retain.state.tables import Arm, metadata

AS_OF = datetime(2024, 3, 31, 12, tzinfo=UTC)
IDS = [f"c{i:02d}" for i in range(1, 13)]
CUSTOMERS = "customer_id,created_at,email,name\n" + "".join(
    f"{c},2024-01-01T00:00:00Z,{c}@example.com,Name {c}\n" for c in IDS
)
LOGINS = "event_id,customer_id,event_type,occurred_at\n" + "".join(
    f"e{c},{c},login,2024-03-01T10:00:00Z\n" for c in IDS
)
TEMPLATES = {
    "hello.subject.j2": "Hello {{ customer.name }}",
    "hello.txt.j2": "Hi {{ customer.id }}, silent for {{ trigger.days_inactive }} days.\n{{ unsubscribe_url }}\n",
    "hello.html.j2": "<p>Hi</p>",
}


def _workspace(tmp_path, tables, name, trigger, toml=None, **options):
    ws = make_workspace(tmp_path, tables, **({} if toml is None else {"toml": toml}))
    folder = ws.path / "playbooks"
    (folder / "templates").mkdir(parents=True)
    for file, text in TEMPLATES.items():
        (folder / "templates" / file).write_text(text)
    (folder / f"{name}.yaml").write_text(playbook_text(name, trigger, **options))
    return ws


def _everything(ws) -> tuple[dict[str, list[tuple]], set[str]]:
    """Every row of every state table, and every file of the workspace but the database's own and the lake
    reader's caches (``<batch>.keys.json``, written by any first read of a batch)."""
    with ws.connect() as conn:
        tables = {t.name: sorted(map(tuple, conn.execute(sa.select(t)))) for t in metadata.sorted_tables}
    files = {
        str(p.relative_to(ws.path))
        for p in ws.path.rglob("*")
        if not p.name.startswith("state.db") and not p.name.endswith(".keys.json")
    }
    return tables, files


def test_preview_counts_who_would_enter_and_renders_their_messages_writing_nothing(tmp_path):
    toml = None  # the test secret is configured: links are verifiable below
    ws = _workspace(tmp_path, {"customers": CUSTOMERS, "events": LOGINS}, "wake", {"kind": "inactive", "days": 30},
                    toml=toml, steps=[*EMAIL, {"action": "task", "title": "Call {{ customer.name }}", "delay": "3d"}],
                    holdout=0.5, enabled=False)  # fmt: skip
    salt = arm_salt(ws.id, "wake")
    arms = {c: arm("wake", c, salt, 0.5) for c in IDS}
    treated = [c for c in IDS if arms[c] is Arm.TREATMENT]
    before = _everything(ws)

    preview = preview_playbook(ws, "wake", as_of=AS_OF, show=2)

    assert _everything(ws) == before
    assert (preview.fired, preview.entered, preview.already_enrolled, preview.not_eligible) == (
        12, 12, 0, {"conditions": 0, "reentry": 0},
    )  # fmt: skip
    assert preview.entered_holdout == 12 - len(treated)
    assert [(e.customer_id, e.trigger_key, e.arm) for e in preview.first] == [
        (c, "inactive:2024-03-01", arms[c]) for c in IDS[:10]
    ]
    assert preview.first[0].detail["days_inactive"] == 30
    assert [r.entry.customer_id for r in preview.rendered] == treated[:2]
    email, task = preview.rendered[0].steps
    c = treated[0]
    lines = email.text.splitlines()
    assert (email.step, email.action, email.delay) == (0, "email", "0d")
    assert lines[:4] == [f"To: {c}@example.com", f"Subject: Hello Name {c}", "", f"Hi {c}, silent for 30 days."]
    assert lines[4].startswith("https://shop.example.com/unsubscribe/")
    assert lines[5:] == ["", "(and an HTML part of 9 characters)"]
    assert (task.action, task.delay, task.text) == ("task", "3d", f"Task: Call Name {c} (due 2024-04-06)")

    # After a run the same preview finds everybody enrolled.
    (ws.path / "playbooks" / "wake.yaml").write_text(
        playbook_text("wake", {"kind": "inactive", "days": 30}, steps=EMAIL, holdout=0.5)
    )
    run_playbooks(ws, as_of=AS_OF)
    again = preview_playbook(ws, "wake", as_of=AS_OF)
    assert (again.fired, again.entered, again.already_enrolled, again.rendered) == (12, 0, 12, [])


def test_preview_without_a_secret_yet_signs_with_a_throw_away_key_and_creates_no_file(tmp_path):
    toml = '[channels.email]\nkind = "smtp"\nsender = "care@example.com"\n'
    ws = _workspace(tmp_path, {"customers": CUSTOMERS, "events": LOGINS}, "wake", {"kind": "inactive", "days": 30},
                    toml=toml, steps=EMAIL, holdout=0.1)  # fmt: skip
    preview = preview_playbook(ws, "wake", as_of=AS_OF, show=1)
    assert not (ws.path / SECRET_FILE).exists()
    assert "throw-away key" in preview.notes[0]
    assert preview.rendered[0].steps[0].text.startswith("To: ")


def test_preview_of_conditions_without_a_snapshot_asks_for_a_refresh(tmp_path):
    ws = _workspace(tmp_path, {"customers": CUSTOMERS, "events": LOGINS}, "wake", {"kind": "inactive", "days": 30},
                    conditions="p_churn > 0.2")  # fmt: skip
    with pytest.raises(InputError, match=r"Playbook wake has conditions.*run `retain refresh` first"):
        preview_playbook(ws, "wake", as_of=AS_OF)
    with pytest.raises(NotFoundError, match=r"No playbook named 'sleep' in .*Playbooks: wake\."):
        preview_playbook(ws, "sleep", as_of=AS_OF)


# Backtest timeline: visits (an event trigger, one day back) replayed at midnight from Mon 4 to Sun 24 March.
# A replay at D 00:00 sees the visits of the day before. Re-entry after 7 days.
VISITS = """event_id,customer_id,event_type,occurred_at
v1,a,visit,2024-03-04T10:00:00Z
v2,a,visit,2024-03-06T10:00:00Z
v3,a,visit,2024-03-13T10:00:00Z
v4,b,visit,2024-03-05T10:00:00Z
v5,b,visit,2024-03-19T10:00:00Z
v6,c,visit,2024-03-20T10:00:00Z
"""
VISIT = {"kind": "event", "event_type": "visit"}
STEPS = [
    {"action": "webhook", "channel": "crm"},
    {"action": "email", "template": "hello", "delay": "2d"},
    {"action": "task", "title": "Call"},  # not a message to the customer
]


def _backtest_ws(tmp_path, **options):
    reentry = {"rule": "after_days", "days": 7}
    return _workspace(
        tmp_path, {"events": VISITS}, "visits", VISIT, steps=STEPS, reentry=reentry, holdout=0.1, **options
    )


def _messages(ws, entries: dict[str, int], per_entry: int) -> dict[int, int]:
    salt = arm_salt(ws.id, "visits")
    counts: dict[int, int] = {}
    for customer, n in entries.items():
        if arm("visits", customer, salt, 0.1) is Arm.TREATMENT:
            counts[n * per_entry] = counts.get(n * per_entry, 0) + 1
    return dict(sorted(counts.items()))


def test_backtest_replays_daily_with_the_reentry_rule_writing_nothing(tmp_path):
    ws = _backtest_ws(tmp_path)
    before = _everything(ws)

    result = backtest_playbook(ws, "visits", since=date(2024, 3, 4), until=date(2024, 3, 24))

    assert _everything(ws) == before
    assert result.replays == 21
    # a enters on the 5th, is refused on the 7th (2 days later), enters again on the 14th; b on the 6th and 20th;
    # c on the 21st.
    assert (result.fired, result.entered, result.not_eligible) == (6, 5, {"conditions": 0, "reentry": 1})
    assert result.weeks == [(date(2024, 3, 4), 2), (date(2024, 3, 11), 1), (date(2024, 3, 18), 2)]
    assert result.customers == 3
    # Every entry's webhook and 2-day email are due by the 24th (the last entry, on the 21st, emails on the 23rd).
    assert result.messages_per_customer == _messages(ws, {"a": 2, "b": 2, "c": 1}, 2)
    assert result.notes == []


def test_backtest_until_cuts_off_the_later_steps(tmp_path):
    ws = _backtest_ws(tmp_path)
    result = backtest_playbook(ws, "visits", since=date(2024, 3, 4), until=date(2024, 3, 14))
    # Entries on the 5th, 6th and 14th; the email of the 14th's entry would go on the 16th, after --until.
    assert (result.entered, result.weeks) == (3, [(date(2024, 3, 4), 2), (date(2024, 3, 11), 1)])
    salt = arm_salt(ws.id, "visits")
    treated = {c for c in "ab" if arm("visits", c, salt, 0.1) is Arm.TREATMENT}
    expected: dict[int, int] = {}
    for customer, messages in (("a", 2 + 1), ("b", 2)):
        if customer in treated:
            expected[messages] = expected.get(messages, 0) + 1
    assert result.messages_per_customer == dict(sorted(expected.items()))


def test_backtest_weekly_misses_a_one_day_trigger_and_says_so(tmp_path):
    ws = _backtest_ws(tmp_path)
    result = backtest_playbook(ws, "visits", since=date(2024, 3, 4), until=date(2024, 3, 24), every="week")
    assert (result.replays, result.fired, result.entered) == (3, 0, 0)
    assert result.weeks == [(date(2024, 3, 4), 0), (date(2024, 3, 11), 0), (date(2024, 3, 18), 0)]
    assert result.notes == [
        "the event trigger looks back 1 day(s) but the replay steps a week: entries between replay dates are "
        "missed; use --every day"
    ]


def test_backtest_evaluates_conditions_on_the_profile_of_each_date(tmp_path):
    ws = _backtest_ws(tmp_path, conditions="events_30d >= 2")
    result = backtest_playbook(ws, "visits", since=date(2024, 3, 4), until=date(2024, 3, 24))
    # a: 1 visit by the 5th (refused), 2 by the 7th (enters), 3 by the 14th (7 days later: enters again);
    # b: 1 by the 6th (refused), 2 by the 20th (enters); c: 1 by the 21st (refused).
    assert (result.fired, result.entered, result.not_eligible) == (6, 3, {"conditions": 3, "reentry": 0})
    assert result.weeks == [(date(2024, 3, 4), 1), (date(2024, 3, 11), 1), (date(2024, 3, 18), 1)]


def test_backtest_refuses_what_it_cannot_replay(tmp_path):
    ws = _workspace(tmp_path, {"events": VISITS}, "risky", {"kind": "risk", "min_p_churn": 0.5})
    with pytest.raises(InputError, match=r"risk trigger, which cannot be replayed"):
        backtest_playbook(ws, "risky", since=date(2024, 3, 4))
    ws2 = _backtest_ws(tmp_path / "two", conditions="p_churn > 0.2")
    with pytest.raises(InputError, match=r"--until 2024-03-01 is before --since 2024-03-04"):
        backtest_playbook(ws2, "visits", since=date(2024, 3, 4), until=date(2024, 3, 1))
    with pytest.raises(InputError, match=r"Unknown --every 'month'; valid: day, week"):
        backtest_playbook(ws2, "visits", since=date(2024, 3, 4), every="month")
    noted = backtest_playbook(ws2, "visits", since=date(2024, 3, 4), until=date(2024, 3, 5))
    assert noted.notes == ["the conditions read p_churn from nowhere (no snapshot yet: null): past values of these "
                           "columns are not kept"]  # fmt: skip
    assert noted.not_eligible["conditions"] == noted.fired


def test_backtest_default_until_is_the_end_of_the_data(tmp_path):
    ws = _backtest_ws(tmp_path)
    result = backtest_playbook(ws, "visits", since=date(2024, 3, 18))
    assert result.until == datetime(2024, 3, 20, 10, tzinfo=UTC) + timedelta(microseconds=1)
    assert result.replays == 3  # the 18th, 19th and 20th at midnight
