"""The registry of trigger evaluators: one per :class:`TriggerKind`, each an Ibis query over the canonical tables.

``TRIGGERS[kind].evaluate(inputs, **params)`` checks the parameters (unknown ones rejected with the valid ones
listed, required ones demanded) and returns an unexecuted Ibis table with the columns ``TRIGGER_COLUMNS``:
``customer_id``, ``trigger_key`` (the idempotency key of the entry), ``fired_at`` (UTC) and ``detail`` (a JSON
object of the facts a message may quote). It runs on whichever engine holds the facts (DuckDB, PySpark).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from retain.automation.triggers.activity import event, inactive, onboarding, signup
from retain.automation.triggers.churned import churned
from retain.automation.triggers.dates import date_trigger
from retain.automation.triggers.inputs import TriggerInputs
from retain.automation.triggers.kinds import TriggerKind
from retain.automation.triggers.risk import risk
from retain.automation.triggers.support import survey, ticket
from retain.automation.triggers.transitions import lifecycle, segment_entry
from retain.engine import to_arrow
from retain.errors import InputError

__all__ = ["TRIGGERS", "TriggerEvaluator", "evaluate_trigger", "get_trigger"]

_REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class TriggerEvaluator:
    """One trigger kind: its query and its parameters (read from the query function's keyword-only arguments).

    A Python keyword as a parameter name is spelled with a trailing underscore in the function (``from_``) and
    without it in the playbook (``from``).
    """

    kind: TriggerKind
    function: Callable[..., ibis.Table]
    parameters: Mapping[str, Any] = field(init=False)
    """Parameter name → default (``inspect.Parameter.empty`` for a required one), in declaration order."""
    _arguments: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keyword_only = [
            p for p in inspect.signature(self.function).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        object.__setattr__(self, "parameters", {p.name.rstrip("_"): p.default for p in keyword_only})
        object.__setattr__(self, "_arguments", {p.name.rstrip("_"): p.name for p in keyword_only})

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, default in self.parameters.items() if default is _REQUIRED)

    @property
    def defaults(self) -> dict[str, Any]:
        return {name: default for name, default in self.parameters.items() if default is not _REQUIRED}

    @property
    def description(self) -> str:
        """The first line of the query function's docstring."""
        return (inspect.getdoc(self.function) or "").splitlines()[0]

    def evaluate(self, inputs: TriggerInputs, **params: Any) -> ibis.Table:
        """The entries this trigger fires at ``inputs.as_of``, as an unexecuted Ibis table.

        Raises
        ------
        InputError
            A parameter is unknown, a required one is missing or a value is out of range; the profile a
            profile-based trigger reads is missing ("run `retain refresh` first").
        """
        unknown = [name for name in params if name not in self.parameters]
        if unknown:
            valid = ", ".join(self.parameters) or "none"
            raise InputError(
                f"Trigger {self.kind}: unknown parameter(s) {', '.join(map(repr, unknown))}. Valid parameters: {valid}."
            )
        missing = [name for name in self.required if name not in params]
        if missing:
            raise InputError(
                f"Trigger {self.kind}: missing required parameter(s) {', '.join(missing)} "
                f"(e.g. trigger: {{kind: {self.kind}, {missing[0]}: ...}})."
            )
        return self.function(inputs, **{self._arguments[name]: value for name, value in params.items()})


TRIGGERS: dict[TriggerKind, TriggerEvaluator] = {
    kind: TriggerEvaluator(kind, function)
    for kind, function in (
        (TriggerKind.SIGNUP, signup),
        (TriggerKind.EVENT, event),
        (TriggerKind.INACTIVE, inactive),
        (TriggerKind.DATE, date_trigger),
        (TriggerKind.ONBOARDING, onboarding),
        (TriggerKind.RISK, risk),
        (TriggerKind.SEGMENT_ENTRY, segment_entry),
        (TriggerKind.LIFECYCLE, lifecycle),
        (TriggerKind.TICKET, ticket),
        (TriggerKind.SURVEY, survey),
        (TriggerKind.CHURNED, churned),
    )
}
"""Every trigger kind's evaluator."""


def get_trigger(kind: TriggerKind | str) -> TriggerEvaluator:
    """The evaluator of ``kind``; an unknown kind raises ``InputError`` listing the valid ones."""
    return TRIGGERS[TriggerKind.parse(kind)]


def evaluate_trigger(
    kind: TriggerKind | str, inputs: TriggerInputs, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Evaluate a trigger and execute it on the facts' engine.

    Parameters
    ----------
    kind
        A :class:`TriggerKind` value, e.g. ``"inactive"``.
    inputs
        The facts, ``as_of`` and profiles.
    params
        The trigger's parameters as written in the playbook (e.g. ``{"days": 30}``).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id, trigger_key, fired_at, detail``, sorted by ``customer_id`` then ``trigger_key``.
    """
    expr = get_trigger(kind).evaluate(inputs, **dict(params or {}))
    table = to_arrow(inputs.facts.backend, expr.order_by(["customer_id", "trigger_key"]))
    return table.to_pandas()
