"""Customer health: a rules-based health score (no labels needed) and the early-warning ranking."""

from retain.health.early_warning import AT_RISK_COLUMNS, rank_at_risk
from retain.health.score import (
    COMPONENTS,
    SUBSCRIPTION_COMPONENTS,
    HealthBand,
    HealthComponent,
    available_components,
    health_score,
    required_columns,
)

__all__ = [
    "AT_RISK_COLUMNS",
    "COMPONENTS",
    "SUBSCRIPTION_COMPONENTS",
    "HealthBand",
    "HealthComponent",
    "available_components",
    "health_score",
    "rank_at_risk",
    "required_columns",
]
