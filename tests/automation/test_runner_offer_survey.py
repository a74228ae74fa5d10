"""The ``offer`` and ``survey`` actions on a tiny hand-written timeline: the exact step rows and outbox rows.

Two customers sign up on 31 March; the playbooks fire on the signup. One customer falls in the treatment arm and
one in the holdout (checked below from the stored hash, so a change of the arm function shows here first): the
treated one gets the offer or the survey invitation, the held-out one a ``held_out`` step and no outbox row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from runner_builders import (
    BASE_URL,
    SECRET,
    WORKSPACE_ID,
    make_workspace,
    outbox_rows,
    rows,
    run_at,
    steps,
    write_playbook,
)

from retain.automation.arms import arm, arm_salt
from retain.automation.outbox import message_key
from retain.automation.signing import WrongPurposeError, verify_link
from retain.state.tables import Arm, playbook_enrolments

D0 = datetime(2024, 3, 31, 12, tzinfo=UTC)
SIGNUP = {"kind": "signup"}
KEY = "signup:2024-03-31"
SHARE = 0.5
OFFER_TEMPLATES = {
    "annual.subject.j2": "{{ offer.name }} for {{ customer.name }}",
    "annual.txt.j2": "Hi {{ customer.name }}, take the {{ offer.name }} offer.\n{{ unsubscribe_url }}",
    "annual.html.j2": "<p>Take the {{ offer.name }} offer</p>",
}
SURVEY_TEMPLATES = {
    "ask.subject.j2": "How are we doing, {{ customer.name }}?",
    "ask.txt.j2": "Answer here: {{ survey_url }}",
}


def _customers(treated: str, held: str) -> str:
    return (
        "customer_id,created_at,email,name\n"
        f"{treated},2024-03-31T08:00:00Z,{treated}@example.com,Name {treated}\n"
        f"{held},2024-03-31T09:00:00Z,{held}@example.com,Name {held}\n"
    )


def _check_arms(playbook: str, treated: str, held: str) -> None:
    salt = arm_salt(WORKSPACE_ID, playbook)
    assert arm(playbook, treated, salt, SHARE) is Arm.TREATMENT, "choose an id in the treatment arm"
    assert arm(playbook, held, salt, SHARE) is Arm.HOLDOUT, "choose an id in the holdout arm"


def _playbook(tmp_path: Path, name: str, step: dict, templates: dict[str, str]):
    folder = tmp_path / "playbooks"
    (folder / "templates").mkdir(parents=True)
    for file, text in templates.items():  # before loading: loading checks the step's template exists
        (folder / "templates" / file).write_text(text)
    return write_playbook(folder, name, SIGNUP, holdout=SHARE, steps=[step])


def _enrolled(engine) -> list[tuple]:
    return rows(engine, playbook_enrolments, "playbook", "customer_id", "trigger_key", "arm", "status")


def test_an_offer_with_a_template_is_an_email_naming_the_offer_and_the_holdout_gets_none(tmp_path, engine):
    # ``engine``: a migrated state database, SQLite then PostgreSQL.
    _check_arms("offer", "a", "c")
    ws = make_workspace(tmp_path, {"customers": _customers("a", "c")})
    playbook = _playbook(
        tmp_path, "offer", {"action": "offer", "offer": "annual_20", "template": "annual"}, OFFER_TEMPLATES
    )

    report = run_at(engine, [playbook], ws, D0).get("offer")

    assert (report.entered, report.entered_holdout, report.enqueued, report.held_out, report.done) == (2, 1, 1, 1, 0)
    assert _enrolled(engine) == [
        ("offer", "a", KEY, "treatment", "completed"),
        ("offer", "c", KEY, "holdout", "completed"),
    ]
    assert steps(engine) == {("offer", "a", 0, "enqueued", None), ("offer", "c", 0, "held_out", None)}
    (message,) = outbox_rows(engine)  # nothing for the held-out customer
    assert (message["customer_id"], message["channel"], message["kind"], message["status"], message["due_at"]) == (
        "a",
        "email",
        "email",
        "pending",
        D0,
    )
    assert message["idempotency_key"] == message_key("offer", playbook.version, 0, "a", KEY)
    payload = message["payload"]
    url = payload["unsubscribe_url"]
    assert url.startswith(f"{BASE_URL}/unsubscribe/")
    assert payload == {
        "to": "a@example.com",
        "subject": "annual_20 for Name a",
        "text": f"Hi Name a, take the annual_20 offer.\n{url}",
        "html": "<p>Take the annual_20 offer</p>",
        "unsubscribe_url": url,
        "headers": {"X-Retain-Playbook": "offer"},
    }
    link = verify_link(SECRET.encode(), url.rsplit("/", 1)[1], purpose="unsubscribe", now=D0)
    assert (link.customer_id, link.expires) == ("a", D0 + timedelta(days=365))


def test_an_offer_without_a_template_is_only_recorded(tmp_path, engine):
    _check_arms("offer", "a", "c")
    ws = make_workspace(tmp_path, {"customers": _customers("a", "c")})
    playbook = _playbook(tmp_path, "offer", {"action": "offer", "offer": "annual_20"}, {})

    report = run_at(engine, [playbook], ws, D0).get("offer")

    # The offer is made where the business shows offers: a done step, no message for anyone.
    assert (report.entered, report.done, report.enqueued, report.held_out) == (2, 1, 0, 1)
    assert steps(engine) == {("offer", "a", 0, "done", None), ("offer", "c", 0, "held_out", None)}
    assert outbox_rows(engine) == []
    assert _enrolled(engine) == [
        ("offer", "a", KEY, "treatment", "completed"),
        ("offer", "c", KEY, "holdout", "completed"),
    ]


def test_a_survey_invitation_carries_a_signed_survey_link_and_the_holdout_gets_none(tmp_path, engine):
    _check_arms("survey", "e", "a")
    ws = make_workspace(tmp_path, {"customers": _customers("e", "a")})
    playbook = _playbook(tmp_path, "survey", {"action": "survey", "survey": "nps", "template": "ask"}, SURVEY_TEMPLATES)

    report = run_at(engine, [playbook], ws, D0).get("survey")

    assert (report.entered, report.entered_holdout, report.enqueued, report.held_out) == (2, 1, 1, 1)
    assert _enrolled(engine) == [
        ("survey", "a", KEY, "holdout", "completed"),
        ("survey", "e", KEY, "treatment", "completed"),
    ]
    assert steps(engine) == {("survey", "e", 0, "enqueued", None), ("survey", "a", 0, "held_out", None)}
    (message,) = outbox_rows(engine)
    assert (message["customer_id"], message["channel"], message["kind"], message["status"], message["due_at"]) == (
        "e",
        "email",
        "email",
        "pending",
        D0,
    )
    assert message["idempotency_key"] == message_key("survey", playbook.version, 0, "e", KEY)
    payload = message["payload"]
    survey_url = payload["text"].removeprefix("Answer here: ")
    assert survey_url.startswith(f"{BASE_URL}/survey/")
    assert payload == {
        "to": "e@example.com",
        "subject": "How are we doing, Name e?",
        "text": f"Answer here: {survey_url}",
        "html": None,  # the template has no HTML part
        "unsubscribe_url": payload["unsubscribe_url"],
        "headers": {"X-Retain-Playbook": "survey"},
    }
    token = survey_url.rsplit("/", 1)[1]
    link = verify_link(SECRET.encode(), token, purpose="survey", now=D0)
    assert (link.purpose, link.customer_id, link.expires) == ("survey", "e", D0 + timedelta(days=365))
    # A survey link cannot unsubscribe anyone; the email's own unsubscribe link does.
    with pytest.raises(WrongPurposeError):
        verify_link(SECRET.encode(), token, purpose="unsubscribe", now=D0)
    unsubscribe = payload["unsubscribe_url"].rsplit("/", 1)[1]
    assert verify_link(SECRET.encode(), unsubscribe, purpose="unsubscribe", now=D0).customer_id == "e"


def test_a_points_step_fails_with_the_reason_until_a_loyalty_ledger_exists(tmp_path, engine):
    _check_arms("offer", "a", "c")
    ws = make_workspace(tmp_path, {"customers": _customers("a", "c")})
    playbook = _playbook(tmp_path, "offer", {"action": "points", "points": 100}, {})

    report = run_at(engine, [playbook], ws, D0).get("offer")

    reason = (
        "points steps need the loyalty ledger, which this version of retain does not have yet; "
        "remove the step or replace it with a coupon"
    )
    assert (report.failed, report.held_out, report.done) == (1, 1, 0)
    assert steps(engine) == {("offer", "a", 0, "failed", reason), ("offer", "c", 0, "held_out", None)}
    assert outbox_rows(engine) == []
