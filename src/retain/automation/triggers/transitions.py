"""Triggers on a change between two snapshots: ``segment_entry`` and ``lifecycle``.

Both compare the current snapshot (``profile``, ``segments``) with the one before it (``previous_profile``,
``previous_segments``). Edges:

- **No previous snapshot** (the first refresh, or ``previous_*`` not given): nothing fires. The first snapshot
  is the baseline; without it every current member would "enter" at once.
- **A customer the previous snapshot did not hold** (new since) was in no segment and in no lifecycle stage: they
  enter a segment they are in now, and move from ``none`` to their current stage.
- **segment_entry** reads membership from the ``segments`` tables (``customer_id, segment``: the
  ``segment_membership`` mart, built from ``[segments]`` in ``retain.toml``). A current snapshot without any
  membership table raises ``InputError`` (no user-defined segment was evaluated); a previous snapshot without one
  is a baseline (the segments were defined after it) and nothing fires. A segment with no member rows is empty —
  a membership table cannot tell an empty segment from an undefined one.
- **lifecycle** reads ``lifecycle_state`` (the profile's name for the stage). ``from`` omitted means any previous
  stage but ``to``, including none; ``from: none`` means the customer had no stage (or was not a customer).

Keys are ``segment:<segment>:<as_of date>`` and ``lifecycle:<to>:<as_of date>``; ``fired_at`` is ``as_of``.
"""

from __future__ import annotations

import ibis

from retain.analytics.lifecycle import LifecycleState
from retain.automation.triggers import _params
from retain.automation.triggers._expr import empty_result, json_object, result
from retain.automation.triggers.inputs import TriggerInputs, require_profile_columns
from retain.errors import InputError

__all__ = ["lifecycle", "segment_entry"]

LIFECYCLE_COLUMN = "lifecycle_state"


def _members(table: ibis.Table, segment: str, what: str) -> ibis.Table:
    require_profile_columns(table, "segment_entry", ("customer_id", "segment"), what=what)
    return table.filter(table.segment == segment).select("customer_id").distinct()


def segment_entry(inputs: TriggerInputs, *, segment: str) -> ibis.Table:
    """Customers in ``segment`` now who were not in it in the previous snapshot."""
    segment = _params.text("segment_entry", "segment", segment)
    inputs.require_profile("segment_entry")
    if inputs.segments is None:
        raise InputError(
            f"The segment_entry trigger watches segment {segment!r}, but the current snapshot holds no segment "
            "membership. Define the segment under [segments] in retain.toml (e.g. "
            f'{segment} = "p_churn > 0.3") and run `retain refresh`.'
        )
    if inputs.previous_profile is None or inputs.previous_segments is None:
        return empty_result()
    now = _members(inputs.segments, segment, "segment membership")
    before = _members(inputs.previous_segments, segment, "previous segment membership")
    entered = now.anti_join(before, "customer_id")
    return result(
        entered,
        customer_id=entered.customer_id,
        trigger_key=ibis.literal(f"segment:{segment}:{inputs.as_of.date().isoformat()}"),
        fired_at=inputs.as_of,
        detail=json_object(segment=segment),
    )


def lifecycle(inputs: TriggerInputs, *, to: str, from_: str | None = None) -> ibis.Table:
    """Customers whose ``lifecycle_state`` is ``to`` now and was ``from`` (or anything but ``to``) before."""
    target = _params.choice("lifecycle", "to", to, LifecycleState, exclude=(LifecycleState.NONE.value,))
    source = None if from_ is None else _params.choice("lifecycle", "from", from_, LifecycleState)
    if source is target:
        raise InputError(f"Trigger lifecycle: from and to are both {target.value!r}; a move needs two stages.")
    profile = inputs.require_profile("lifecycle")
    require_profile_columns(profile, "lifecycle", ("customer_id", LIFECYCLE_COLUMN))
    if inputs.previous_profile is None:
        return empty_result()
    previous = inputs.previous_profile
    require_profile_columns(previous, "lifecycle", ("customer_id", LIFECYCLE_COLUMN), what="previous profile")
    now = profile.filter(profile[LIFECYCLE_COLUMN] == target.value).select("customer_id")
    before = previous.select("customer_id", _before=previous[LIFECYCLE_COLUMN])
    j = now.left_join(before, "customer_id").select(now.customer_id, before["_before"])
    was = j["_before"]
    if source is None:
        moved = was.isnull() | (was != target.value)
    elif source is LifecycleState.NONE:
        moved = was.isnull()
    else:
        moved = (was == source.value).fill_null(False)
    j = j.filter(moved)
    return result(
        j,
        customer_id=j.customer_id,
        trigger_key=ibis.literal(f"lifecycle:{target.value}:{inputs.as_of.date().isoformat()}"),
        fired_at=inputs.as_of,
        detail=json_object(**{"from": j["_before"], "to": target.value}),
    )
