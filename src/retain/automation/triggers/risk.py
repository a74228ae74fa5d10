"""The ``risk`` trigger: the churn model's probability for a customer is at or above a threshold.

It reads the current profile (``p_churn`` and ``reason_code`` from the refresh). A customer without a score
(``p_churn`` null: outside the model's population, or no model) never fires. The key is ``risk:<yyyy-mm>`` of
``as_of``, so a customer enters at most once a calendar month however often the trigger runs; ``fired_at`` is
``as_of`` (the profile says who is at risk now, not since when).
"""

from __future__ import annotations

import ibis

from retain.automation.triggers import _params
from retain.automation.triggers._expr import json_object, result
from retain.automation.triggers.inputs import TriggerInputs, require_profile_columns
from retain.contract.taxonomy import ReasonCode

__all__ = ["risk"]

_QUOTED = ("reason_code", "reasons", "expected_loss", "value_if_retained", "risk_rank")
"""Profile columns a message may quote, put into ``detail`` when the profile has them."""


def risk(inputs: TriggerInputs, *, min_p_churn: float, reason: str | None = None) -> ibis.Table:
    """Customers with ``p_churn >= min_p_churn`` (and ``reason_code == reason`` when given)."""
    threshold = _params.probability("risk", "min_p_churn", min_p_churn)
    code = None if reason is None else _params.choice("risk", "reason", reason, ReasonCode)
    profile = inputs.require_profile("risk")
    require_profile_columns(profile, "risk", ("customer_id", "p_churn", *(() if code is None else ("reason_code",))))
    p = profile.filter(profile.p_churn.notnull() & (profile.p_churn >= threshold))
    if code is not None:
        p = p.filter(p.reason_code == code.value)
    quoted = {name: p[name] for name in _QUOTED if name in p.columns}
    return result(
        p,
        customer_id=p.customer_id,
        trigger_key=ibis.literal(f"risk:{inputs.as_of:%Y-%m}"),
        fired_at=inputs.as_of,
        detail=json_object(p_churn=p.p_churn, **quoted),
    )
