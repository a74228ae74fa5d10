"""Predictive models: churn (LightGBM) and customer lifetime value (MBG/NBD or BG/NBD + Gamma-Gamma).

Import the models from their sub-packages, e.g. ``from retain.models.clv import BetaGeoModel``.
"""

from __future__ import annotations

__all__: list[str] = []
