"""The Plotly layout every chart of the report shares."""

from __future__ import annotations

from typing import Any

__all__ = ["LAYOUT"]

LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 420,
    "margin": {"l": 60, "r": 30, "t": 60, "b": 50},
    "legend": {"orientation": "h", "y": -0.15},
}
"""Keyword arguments of ``figure.update_layout`` common to all charts."""
