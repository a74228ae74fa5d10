"""What to try when a file's columns do not fit a table: the ``--map`` options of the closest column names, and
the known export layouts (presets) whose columns the header has."""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable

from retain.contract.presets import Preset, matching_presets

__all__ = ["as_options", "closest_columns", "map_suggestions", "preset_hint"]

_CUTOFF = 0.7
"""Similarity below which two names are not suggested as the same column (``CustID`` / ``customer_id``: 0.75,
``Country`` / ``amount``: 0.62)."""


def _squashed(name: str) -> str:
    """``Customer-ID``, ``customerId`` and ``customer_id`` all become ``customerid``."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def _similarity(target: str, source: str) -> float:
    a, b = _squashed(target), _squashed(source)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if len(a) >= 4 and len(b) >= 4 and (a in b or b in a):  # email / email_address, amount / total_amount
        return 0.9
    return difflib.SequenceMatcher(None, a, b).ratio()


def map_suggestions(targets: Iterable[str], sources: Iterable[str]) -> dict[str, str]:
    """Each table column in ``targets`` paired with the most similar unused input column in ``sources``.

    Pairs are taken best first, so one input column is suggested for one table column only; columns without a
    similar enough partner are left out. The pairs come in the order of ``targets``.
    """
    targets, sources = list(targets), list(sources)
    scored = sorted(
        ((_similarity(t, s), t, s) for t in targets for s in sources),
        key=lambda item: -item[0],
    )
    out: dict[str, str] = {}
    used: set[str] = set()
    for score, target, source in scored:
        if score < _CUTOFF:
            break
        if target not in out and source not in used:
            out[target] = source
            used.add(source)
    return {t: out[t] for t in targets if t in out}


def as_options(pairs: dict[str, str]) -> str:
    """``--map customer_id=CustID --map amount='Total (EUR)'``: ready to paste into a shell."""
    return " ".join(f"--map {target}={shlex.quote(source)}" for target, source in pairs.items())


def closest_columns(name: str, columns: Iterable[str]) -> list[str]:
    """Input columns whose names are close to ``name`` (for a ``--map`` naming a column the file lacks)."""
    ranked = sorted(((_similarity(name, c), c) for c in columns), key=lambda item: -item[0])
    return [c for score, c in ranked[:3] if score >= _CUTOFF]


def preset_hint(columns: Iterable[str]) -> str:
    """A sentence naming the presets whose input columns the header has, or ``""``."""
    presets: list[Preset] = matching_presets(columns)
    if not presets:
        return ""
    named = "; ".join(f"`retain ingest {p.table} FILE --preset {p.name}` ({p.description})" for p in presets)
    return f"The header is that of a known export: {named}."
