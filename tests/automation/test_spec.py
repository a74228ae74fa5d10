"""The playbook models: the schema's kinds, parameters and defaults, delays, conditions and the rules across keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from retain.automation.spec import (
    STEP_SPECS,
    TRIGGER_SPECS,
    ActionKind,
    ActivityKind,
    CouponStep,
    EmailStep,
    GoalMetric,
    PlaybookSpec,
    ReentryRule,
    TaskStep,
    TriggerKind,
    WebhookStep,
    check_conditions,
    format_delay,
    parse_delay,
)
from retain.automation.triggers_spec import LifecycleTrigger
from retain.contract.taxonomy import ChurnReason, ReasonCode
from retain.errors import InputError


def _playbook(**overrides) -> dict:
    data = {
        "name": "wake_up",
        "description": "Wake up quiet customers.",
        "trigger": {"kind": "inactive", "days": 30},
        "steps": [{"action": "email", "template": "wake_up"}],
        "goal": {"metric": "retained", "window_days": 30},
    }
    return data | overrides


def _errors(data: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as caught:
        PlaybookSpec.model_validate(data)
    return [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()]


def test_the_registries_hold_exactly_the_schemas_kinds_and_actions():
    assert [k.value for k in TriggerKind] == [
        "signup",
        "event",
        "inactive",
        "date",
        "onboarding",
        "risk",
        "segment_entry",
        "lifecycle",
        "ticket",
        "survey",
        "churned",
    ]
    assert [a.value for a in ActionKind] == [
        "email",
        "webhook",
        "file",
        "task",
        "tag",
        "coupon",
        "points",
        "offer",
        "survey",
    ]
    assert set(TRIGGER_SPECS) == set(TriggerKind) and set(STEP_SPECS) == set(ActionKind)
    assert [m.value for m in GoalMetric] == ["retained", "orders", "revenue", "logins"]
    assert [r.value for r in ReentryRule] == ["once", "after_days", "every_trigger"]


def test_a_minimal_playbook_gets_the_schemas_defaults():
    spec = PlaybookSpec.model_validate(_playbook())
    assert (spec.enabled, spec.priority, spec.holdout, spec.conditions) == (True, 50, 0.1, None)
    assert (spec.reentry.rule, spec.reentry.days) == (ReentryRule.ONCE, None)
    assert spec.trigger.params() == {"days": 30, "activity": ActivityKind.ANY}
    step = spec.steps[0]
    assert isinstance(step, EmailStep)
    assert (step.template, step.channel, step.delay, step.recheck) == ("wake_up", "email", timedelta(0), True)


@pytest.mark.parametrize(
    ("trigger", "params"),
    [
        ({"kind": "signup"}, {"within_days": 1}),
        ({"kind": "event", "event_type": "payment_failed"}, {"event_type": "payment_failed", "within_days": 1}),
        ({"kind": "date", "field": "renewal", "days_before": 14}, {"field": "renewal", "days_before": 14}),
        ({"kind": "onboarding", "feature": "feature_used"}, {"feature": "feature_used", "days": 7}),
        ({"kind": "risk", "min_p_churn": 0.3}, {"min_p_churn": 0.3, "reason": None}),
        ({"kind": "segment_entry", "segment": "big"}, {"segment": "big"}),
        ({"kind": "lifecycle", "to": "at_risk", "from": "active"}, {"to": "at_risk", "from": "active"}),
        ({"kind": "ticket"}, {"min_unresolved": 2, "within_days": 30, "category": None}),
        ({"kind": "survey", "group": "promoter"}, {"group": "promoter", "within_days": 1}),
        ({"kind": "churned"}, {"reason": None, "within_days": 30}),
    ],
)
def test_each_trigger_kind_takes_its_parameters_with_the_schemas_defaults(trigger, params):
    spec = PlaybookSpec.model_validate(_playbook(trigger=trigger))
    assert spec.trigger.kind == trigger["kind"]
    assert spec.trigger.params() == params


@pytest.mark.parametrize(
    ("trigger", "missing"),
    [
        ({"kind": "event"}, "event_type"),
        ({"kind": "inactive"}, "days"),
        ({"kind": "date"}, "field"),
        ({"kind": "onboarding"}, "feature"),
        ({"kind": "risk"}, "min_p_churn"),
        ({"kind": "segment_entry"}, "segment"),
        ({"kind": "lifecycle"}, "to"),
        ({"kind": "survey"}, "group"),
    ],
)
def test_required_trigger_parameters(trigger, missing):
    assert _errors(_playbook(trigger=trigger)) == [(("trigger", trigger["kind"], missing), "missing")]


def test_reasons_validate_against_the_taxonomy():
    risk = PlaybookSpec.model_validate(_playbook(trigger={"kind": "risk", "min_p_churn": 0.2, "reason": "disengaged"}))
    assert risk.trigger.reason is ReasonCode.DISENGAGED
    churned = PlaybookSpec.model_validate(_playbook(trigger={"kind": "churned", "reason": "price"}))
    assert churned.trigger.reason is ChurnReason.PRICE
    # "disengaged" is a reason code of risk explanations, not a stated churn reason.
    assert _errors(_playbook(trigger={"kind": "churned", "reason": "disengaged"})) == [
        (("trigger", "churned", "reason"), "enum")
    ]


def test_lifecycle_states_are_those_of_the_lifecycle_analytics_and_from_is_spelt_from():
    spec = PlaybookSpec.model_validate(_playbook(trigger={"kind": "lifecycle", "to": "churned"}))
    assert isinstance(spec.trigger, LifecycleTrigger) and spec.trigger.from_ is None
    assert _errors(_playbook(trigger={"kind": "lifecycle", "to": "none"})) == [(("trigger", "lifecycle", "to"), "enum")]
    dumped = spec.model_dump(mode="json", by_alias=True)["trigger"]
    assert dumped == {"kind": "lifecycle", "to": "churned", "from": None}


def test_unknown_keys_are_refused_at_every_level():
    data = _playbook(
        trigger={"kind": "inactive", "days": 30, "dayz": 3},
        steps=[{"action": "email", "template": "t", "tempalte": "x"}],
        goal={"metric": "orders", "window_days": 30, "x": 1},
        extra=True,
    )
    assert sorted(_errors(data)) == sorted(
        [
            (("trigger", "inactive", "dayz"), "extra_forbidden"),
            (("steps", 0, "email", "tempalte"), "extra_forbidden"),
            (("goal", "x"), "extra_forbidden"),
            (("extra",), "extra_forbidden"),
        ]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0d", timedelta(0)), ("3d", timedelta(days=3)), ("12h", timedelta(hours=12)), (" 1d ", timedelta(days=1))],
)
def test_delays_parse_to_timedeltas_and_write_back_the_same(text, expected):
    assert parse_delay(text) == expected
    assert format_delay(expected) == text.strip()


def test_delays_in_hours_that_make_whole_days_write_back_as_days():
    assert format_delay(parse_delay("48h")) == "2d"
    assert format_delay(parse_delay("36h")) == "36h"


@pytest.mark.parametrize("bad", ["3", "3x", "-1d", "1.5d", "d", 3, None, "366d"])
def test_bad_delays_are_refused_with_the_expected_form(bad):
    with pytest.raises(ValueError, match=r"e\.g\. 0d, 3d or 12h|out of range; use 0d to 365d"):
        parse_delay(bad)


def test_a_webhook_step_posts_as_the_playbook_name_unless_told_otherwise():
    spec = PlaybookSpec.model_validate(
        _playbook(
            steps=[{"action": "webhook", "channel": "crm"}, {"action": "webhook", "channel": "crm", "event": "x"}]
        )
    )
    assert [step.event for step in spec.steps if isinstance(step, WebhookStep)] == ["wake_up", "x"]


def test_a_coupon_needs_exactly_one_discount():
    ok = PlaybookSpec.model_validate(_playbook(steps=[{"action": "coupon", "prefix": "BDAY", "amount_off": 10}]))
    step = ok.steps[0]
    assert isinstance(step, CouponStep) and (step.percent_off, step.amount_off, step.expires_days) == (None, 10, 30)
    for discounts in ({}, {"percent_off": 10, "amount_off": 5}):
        steps = [{"action": "coupon", "prefix": "BDAY", **discounts}]
        assert _errors(_playbook(steps=steps)) == [(("steps", 0, "coupon"), "value_error")]


def test_a_task_title_is_a_template_over_the_context_names():
    ok = PlaybookSpec.model_validate(
        _playbook(steps=[{"action": "task", "title": "Call {{ customer.name }}", "delay": "3d"}])
    )
    step = ok.steps[0]
    assert isinstance(step, TaskStep) and (step.due_days, step.assignee, step.delay) == (3, None, timedelta(days=3))
    assert _errors(_playbook(steps=[{"action": "task", "title": "{{ custmer.name }}"}])) == [
        (("steps", 0, "task", "title"), "value_error")
    ]
    assert _errors(_playbook(steps=[{"action": "task", "title": "{% if %}"}])) == [
        (("steps", 0, "task", "title"), "value_error")
    ]


def test_reentry_after_days_needs_days_and_only_it_takes_them():
    spec = PlaybookSpec.model_validate(_playbook(reentry={"rule": "after_days", "days": 90}))
    assert (spec.reentry.rule, spec.reentry.days) == (ReentryRule.AFTER_DAYS, 90)
    assert _errors(_playbook(reentry={"rule": "after_days"})) == [(("reentry",), "value_error")]
    assert _errors(_playbook(reentry={"rule": "once", "days": 3})) == [(("reentry",), "value_error")]


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("holdout", 0, "greater_than"),
        ("holdout", 0.51, "less_than_equal"),
        ("priority", 101, "less_than_equal"),
        ("priority", -1, "greater_than_equal"),
        ("name", "Wake-Up", "string_pattern_mismatch"),
        ("steps", [], "too_short"),
    ],
)
def test_bounds(key, value, error):
    assert _errors(_playbook(**{key: value})) == [((key,), error)]


def test_holdout_bounds_are_inclusive_of_half():
    assert PlaybookSpec.model_validate(_playbook(holdout=0.5)).holdout == 0.5


def test_conditions_compile_against_the_profile_columns():
    spec = PlaybookSpec.model_validate(_playbook(conditions="p_churn >= 0.1 AND lifecycle_state != 'churned'"))
    assert spec.conditions == "p_churn >= 0.1 AND lifecycle_state != 'churned'"
    assert PlaybookSpec.model_validate(_playbook(conditions="  ")).conditions is None
    with pytest.raises(InputError) as caught:
        check_conditions("lifecycle_stage != 'churned'")
    message = str(caught.value)
    assert message.startswith(
        "condition \"lifecycle_stage != 'churned'\" is not allowed: unknown column 'lifecycle_stage' "
        "(did you mean 'lifecycle_state'?). Allowed columns: customer_id, name, email,"
    )
    assert "p_churn" in message and "reason_code" in message
    with pytest.raises(InputError) as caught:
        check_conditions("p_churn > 'high'")
    assert str(caught.value).startswith(
        "condition \"p_churn > 'high'\" is not allowed: comparison of 'p_churn' (number) with \"'high'\" (string): "
        "types differ."
    )


def test_templates_and_summary():
    spec = PlaybookSpec.model_validate(
        _playbook(
            trigger={"kind": "risk", "min_p_churn": 0.3, "reason": "price"},
            steps=[
                {"action": "email", "template": "a"},
                {"action": "offer", "offer": "half_price"},
                {"action": "survey", "template": "b"},
                {"action": "email", "template": "a", "delay": "2d"},
            ],
        )
    )
    assert spec.templates == ["a", "b"]
    assert spec.summary() == {
        "name": "wake_up",
        "enabled": True,
        "trigger": "risk price",
        "priority": 50,
        "holdout": 0.1,
    }


def test_a_spec_dumps_to_data_that_validates_to_the_same_spec():
    spec = PlaybookSpec.model_validate(
        _playbook(steps=[{"action": "email", "template": "a", "delay": "36h"}, {"action": "tag", "tag": "vip"}])
    )
    data = spec.model_dump(mode="json", by_alias=True)
    assert data["steps"][0]["delay"] == "36h"
    assert PlaybookSpec.model_validate(data) == spec
