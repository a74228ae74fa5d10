"""Trigger evaluation: which customers enter a playbook at ``as_of``, as engine queries (DESIGN.md section 9).

Each :class:`TriggerKind` has an evaluator in :data:`TRIGGERS` that turns :class:`TriggerInputs` and the
playbook's trigger parameters into an Ibis table ``customer_id, trigger_key, fired_at, detail``;
:func:`evaluate_trigger` executes one on the facts' engine.
"""

from retain.automation.triggers._expr import TRIGGER_COLUMNS, TRIGGER_SCHEMA, iso_instant
from retain.automation.triggers.inputs import TriggerInputs
from retain.automation.triggers.kinds import TriggerKind
from retain.automation.triggers.registry import TRIGGERS, TriggerEvaluator, evaluate_trigger, get_trigger

__all__ = [
    "TRIGGERS",
    "TRIGGER_COLUMNS",
    "TRIGGER_SCHEMA",
    "TriggerEvaluator",
    "TriggerInputs",
    "TriggerKind",
    "evaluate_trigger",
    "get_trigger",
    "iso_instant",
]
