"""retain's REST API (FastAPI): thin routes over the services; ``create_app`` builds it."""

from retain.api.app import create_app

__all__ = ["create_app"]
