"""The app factory uvicorn imports in each server process (``retain serve`` passes the workspace by environment)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from retain.api.app import create_app
from retain.settings import Settings

__all__ = ["WORKSPACE_VARIABLE", "app_from_environment"]

WORKSPACE_VARIABLE = "RETAIN_WORKSPACE"


def app_from_environment() -> FastAPI:
    return create_app(Settings.load(Path(os.environ.get(WORKSPACE_VARIABLE, "."))))
