"""A real ``retain serve`` process on a free loopback port, for the API bench and the tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from retain.errors import RetainError

__all__ = ["free_port", "serving"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(workspace: Path, *, env: dict[str, str] | None = None, timeout: float = 120.0) -> Iterator[str]:
    """Run ``retain serve -w workspace`` on a free port until the block ends; yields its base URL.

    The process is the command line's own (``python -m retain serve``), so what is measured or tested is what a
    user runs. Its stderr goes to ``<workspace>/serve.log`` (a pipe nobody reads would block it once full). It is
    stopped with SIGTERM (uvicorn's graceful shutdown), then killed if it lingers.
    """
    port = free_port()
    log_path = Path(workspace) / "serve.log"
    log = log_path.open("w")
    command = [sys.executable, "-m", "retain", "serve", "-w", str(workspace), "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RetainError(
                    f"retain serve exited with code {process.returncode}: {process.stderr.read()[-2000:]}"
                )
            try:
                if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RetainError(f"retain serve did not answer /health on {base} within {timeout:.0f} s.")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
