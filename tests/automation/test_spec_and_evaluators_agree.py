"""The playbook file's trigger models and the trigger evaluators describe the same kinds and parameters."""

from __future__ import annotations

from retain.automation.spec import TRIGGER_SPECS
from retain.automation.triggers import TRIGGERS, TriggerKind


def test_every_trigger_kind_has_a_file_model_and_an_evaluator_with_the_same_parameters():
    assert set(TRIGGER_SPECS) == set(TRIGGERS) == set(TriggerKind)
    for kind, model in TRIGGER_SPECS.items():
        in_file = {field.alias or name for name, field in model.model_fields.items()} - {"kind"}
        assert in_file == set(TRIGGERS[kind].parameters), kind


def test_the_parameters_a_file_gives_are_what_the_evaluator_takes():
    lifecycle = TRIGGER_SPECS[TriggerKind.LIFECYCLE].model_validate({"kind": "lifecycle", "to": "churned"})
    params = lifecycle.params()
    assert params["to"] == "churned"
    assert params == {"to": "churned", "from": None}
    assert set(params) == set(TRIGGERS[TriggerKind.LIFECYCLE].parameters)
