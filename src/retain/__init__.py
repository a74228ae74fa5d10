"""retain: self-hosted customer retention and churn management."""

__version__ = "0.1.0"

__all__ = ["__version__"]
