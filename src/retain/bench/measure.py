"""Wall time and peak resident memory of one call, sampled from inside the process."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psutil
import pyarrow as pa

__all__ = ["Measurement", "measure", "median_of", "release_memory"]

T = TypeVar("T")


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_mb: float
    """Peak resident memory during the call, minus the memory in use when it started."""


def release_memory() -> None:
    """Hand freed memory back to the OS so that the next job's peak is not hidden by (or blamed for) a previous
    job's allocator caches: Python's garbage, Arrow's pool and glibc's heap."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(func: Callable[[], T], *, interval: float = 0.005) -> tuple[Measurement, T]:
    """Time ``func`` and sample its process's RSS every ``interval`` seconds (native allocations included)."""
    release_memory()
    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = start_rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    try:
        value = func()
    finally:
        elapsed = time.perf_counter() - began
        done.set()
        sampler.join()
    peak = max(peak, process.memory_info().rss)
    return Measurement(elapsed, (peak - start_rss) / 2**20), value


def median_of(runs: list[Measurement]) -> Measurement:
    return Measurement(statistics.median(r.seconds for r in runs), statistics.median(r.peak_rss_mb for r in runs))
