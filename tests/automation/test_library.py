"""The built-in library: a playbook per play of the issue, each valid, every template rendering; installing it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from retain.automation.actions_spec import CouponStep, TaskStep
from retain.automation.library import install_library, library_files
from retain.automation.loading import LoadedPlaybook, load_playbooks
from retain.automation.templates import message_context, render_email, render_text
from retain.contract.profile import PROFILE
from retain.contract.taxonomy import Playbook
from retain.errors import ConflictError

URL = "https://retain.example/unsubscribe/eyJjIjoiYzEifQ.c2ln"

# name: (trigger kind, the trigger's parameters, conditions, actions in order, priority)
PLAYS = {
    "dunning": ("risk", {"min_p_churn": 0.1, "reason": "payment_failed"}, None, ["email", "email"], 90),
    "complaint_help": ("ticket", {"min_unresolved": 2, "within_days": 30, "category": None}, None, ["task"], 85),
    "service_recovery": (
        "risk",
        {"min_p_churn": 0.3, "reason": None},
        "reason_code IN ('poor_service', 'dissatisfied')",
        ["task"],
        80,
    ),
    "detractor_follow_up": ("survey", {"group": "detractor", "within_days": 1}, None, ["task", "email"], 75),
    "price_offer": ("risk", {"min_p_churn": 0.3, "reason": "price"}, None, ["coupon", "email"], 70),
    "re_engagement": ("risk", {"min_p_churn": 0.3, "reason": "disengaged"}, None, ["email"], 60),
    "onboarding_nudge": (
        "onboarding",
        {"feature": "feature_used", "days": 7},
        "coalesce(lifecycle_state, 'none') != 'churned'",
        ["email"],
        45,
    ),
    "welcome": ("signup", {"within_days": 1}, None, ["email", "email"], 40),
    "win_back_price": ("churned", {"reason": "price", "within_days": 30}, None, ["coupon", "email"], 40),
    "win_back": ("churned", {"reason": None, "within_days": 30}, None, ["email"], 35),
    "wake_up": (
        "inactive",
        {"days": 30, "activity": "any"},
        "coalesce(lifecycle_state, 'none') != 'churned'",
        ["email"],
        30,
    ),
    "promoter_ask": ("survey", {"group": "promoter", "within_days": 1}, None, ["email"], 25),
    "birthday": (
        "date",
        {"field": "birthday", "days_before": 0},
        "coalesce(lifecycle_state, 'none') != 'churned'",
        ["coupon", "email"],
        20,
    ),
}
MARKETING = ("welcome", "onboarding_nudge", "wake_up", "birthday", "promoter_ask", "win_back", "win_back_price")


@pytest.fixture(scope="module")
def library() -> list[LoadedPlaybook]:
    with resources.as_file(resources.files("retain.automation.library")) as folder:
        return load_playbooks(folder)


def _customer(**overrides) -> dict:
    """A full profile row of a plausible subscription customer."""
    row = dict.fromkeys(PROFILE.names)
    row |= {
        "customer_id": "C-0042",
        "name": "Ada <Lovelace>",
        "email": "ada@example.org",
        "plan": "pro",
        "mrr": 49.0,
        "p_churn": 0.42,
        "nps_score": 3,
        "complaints_unresolved": 2,
        "lifecycle_state": "at_risk",
    }
    return row | overrides


def test_one_playbook_per_play_with_the_trigger_steps_and_priority_of_the_play(library):
    found = {
        p.name: (
            str(p.spec.trigger.kind),
            {
                k: (None if v is None else v if isinstance(v, int | float) else str(v))
                for k, v in p.spec.trigger.params().items()
            },
            p.spec.conditions,
            [str(step.action) for step in p.spec.steps],
            p.spec.priority,
        )
        for p in library
    }
    assert found == PLAYS
    assert [p.name for p in library] == sorted(PLAYS, key=lambda n: (-PLAYS[n][4], n))  # priority, then name


def test_every_playbook_has_a_goal_a_tenth_held_out_and_ships_disabled(library):
    for playbook in library:
        spec = playbook.spec
        assert spec.holdout == 0.1, playbook.name
        assert spec.goal.window_days >= 30, playbook.name
        assert spec.enabled is False, playbook.name
        assert spec.description.endswith("."), playbook.name
    assert {p.name: str(p.spec.goal.metric) for p in library}["birthday"] == "orders"


def test_dunning_and_service_recovery_come_before_marketing(library):
    priority = {p.name: p.spec.priority for p in library}
    for urgent in ("dunning", "service_recovery", "complaint_help", "detractor_follow_up"):
        assert all(priority[urgent] > priority[m] for m in MARKETING), urgent
    assert priority["win_back_price"] > priority["win_back"]  # a price churner gets the coupon version


def test_the_taxonomy_playbook_names_are_used_where_a_play_fits(library):
    names = {p.name for p in library}
    assert {str(p) for p in Playbook} - names == {"renewal_check_in", "account_review"}


def test_coupons_and_reentry(library):
    by_name = {p.name: p.spec for p in library}
    coupons = {
        name: (step.prefix, step.percent_off, step.expires_days)
        for name, spec in by_name.items()
        for step in spec.steps
        if isinstance(step, CouponStep)
    }
    assert coupons == {
        "birthday": ("BDAY", 15, 30),
        "price_offer": ("STAY", 20, 30),
        "win_back_price": ("BACK", 25, 45),
    }
    assert str(by_name["birthday"].reentry.rule) == "every_trigger"  # every birthday, not only the first


def _render_all(playbook: LoadedPlaybook, customer: dict) -> list[tuple[str, object]]:
    rendered: list[tuple[str, object]] = []
    coupon = None
    for step in playbook.spec.steps:
        if isinstance(step, CouponStep):
            coupon = {
                "code": f"{step.prefix}-7K2Q9",
                "percent_off": step.percent_off,
                "amount_off": step.amount_off,
                "expires_at": "2025-03-31T00:00:00+00:00",
            }
        context = message_context(
            customer,
            playbook={"name": playbook.name, "description": playbook.spec.description, "version": playbook.version},
            trigger={},
            unsubscribe_url=URL,
            coupon=coupon,
        )
        if isinstance(step, TaskStep):
            rendered.append(("task", render_text(step.title, context)))
        for template in step.templates:
            rendered.append((template, render_email(playbook.templates_folder, template, context)))
    return rendered


@pytest.mark.parametrize("name", list(PLAYS))
def test_every_template_renders_for_a_sample_customer_with_text_html_and_the_unsubscribe_link(library, name):
    (playbook,) = [p for p in library if p.name == name]
    rendered = _render_all(playbook, _customer())
    assert [what == "task" for what, _ in rendered] == [a == "task" for a in PLAYS[name][3] if a != "coupon"]
    for what, output in rendered:
        if what == "task":
            assert "Ada <Lovelace>" in output
            continue
        assert output.subject and "\n" not in output.subject
        assert "Hi Ada <Lovelace>," in output.text
        assert f"Unsubscribe from these emails: {URL}" in output.text
        assert output.html is not None
        assert "Hi Ada &lt;Lovelace&gt;," in output.html and "<Lovelace>" not in output.html
        assert f'<a href="{URL}"' in output.html
        assert "{{" not in output.text + output.html
    emails = [out for what, out in rendered if what != "task"]
    assert len(emails) == sum(1 for a in PLAYS[name][3] if a == "email")


def test_a_coupon_email_shows_the_code_discount_and_expiry(library):
    (birthday,) = [p for p in library if p.name == "birthday"]
    ((_, email),) = _render_all(birthday, _customer())
    assert "  15 % off your next order with the code BDAY-7K2Q9\n  (valid until 2025-03-31)\n" in email.text
    assert "15 % off with the code" in email.html and "BDAY-7K2Q9" in email.html


def test_task_titles(library):
    titles = {p.name: [out for what, out in _render_all(p, _customer()) if what == "task"] for p in library}
    assert titles["complaint_help"] == ["Help Ada <Lovelace>: 2 unresolved complaints"]
    assert titles["service_recovery"] == ["Call Ada <Lovelace> about their experience (churn risk 42 %)"]
    assert titles["detractor_follow_up"] == ["Call Ada <Lovelace>: NPS 3"]
    anonymous = {p.name: _render_all(p, _customer(name=None, p_churn=None, nps_score=None)) for p in library}
    assert anonymous["detractor_follow_up"][0] == ("task", "Call C-0042: NPS 0-6")
    assert anonymous["service_recovery"][0] == ("task", "Call C-0042 about their experience (churn risk 0 %)")
    assert "Hi there," in anonymous["wake_up"][0][1].text


def test_install_copies_every_file_and_the_copies_load_with_the_same_versions(library, tmp_path):
    folder = tmp_path / "playbooks"
    files = library_files()
    assert sum(name.endswith(".yaml") for name in files) == 13
    written = install_library(folder)
    assert written == [folder / name for name in files]
    assert {p.name: p.version for p in load_playbooks(folder)} == {p.name: p.version for p in library}
    for template in {t for p in library for t in p.spec.templates}:
        for part in ("subject", "txt", "html"):
            assert (folder / "templates" / f"{template}.{part}.j2").is_file()
    assert install_library(folder) == []  # up to date: nothing to do


def test_install_refuses_to_overwrite_an_edited_file_and_writes_nothing(tmp_path):
    folder = tmp_path / "playbooks"
    install_library(folder)
    edited = folder / "wake_up.yaml"
    edited.write_text(edited.read_text().replace("enabled: false", "enabled: true"))
    (folder / "welcome.yaml").unlink()
    with pytest.raises(ConflictError) as caught:
        install_library(folder)
    assert str(caught.value) == (
        f"Not copying the built-in playbooks: 1 file(s) differ from the library's version (edited?): "
        f"{edited.as_posix()}. Keep your changes, or replace them with the library's version with overwrite "
        "(`retain playbook init --overwrite`)."
    )
    assert not (folder / "welcome.yaml").exists()  # all or nothing
    assert "enabled: true" in edited.read_text()
    assert install_library(folder, overwrite=True) == [folder / "wake_up.yaml", folder / "welcome.yaml"]
    assert edited.read_bytes() == library_files()["wake_up.yaml"]


def test_the_library_is_found_as_package_data():
    # importlib.resources finds the files beside the module; the wheel (hatch, packages = ["src/retain"]) ships
    # every file under src/retain, so an installed copy finds them the same way.
    root = Path(str(resources.files("retain.automation.library")))
    assert sorted(p.name for p in root.glob("*.yaml")) == sorted(f"{n}.yaml" for n in PLAYS)
    # 13 email templates of 3 parts each, and the shared HTML layout and text footer.
    templates = sorted(n for n in library_files() if n.startswith("templates/"))
    assert len(templates) == 13 * 3 + 2
    assert [n for n in templates if n.startswith("templates/_")] == [
        "templates/_footer.txt.j2",
        "templates/_layout.html.j2",
    ]
