"""``retain bench api``: latency and throughput of the API's 360 read (and batch event posts) on N customers.

A real ``retain serve`` process (one uvicorn worker) serves a workspace of N synthetic subscription customers
(:func:`retain.bench.analytics_bench.prepare_workspace`, then a refresh); K concurrent clients in this process
(one thread and one keep-alive connection each) call a route for a fixed number of requests. The reference is
the same server's bare ``/health`` route in the same run: the ratio of the 360's p99 to it says what the route
costs beyond the HTTP stack. ``POST /v1/events`` (batches of 100 events) is timed only when the server's OpenAPI
document has it.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from retain.bench.analytics_bench import prepare_workspace
from retain.bench.api_server import serving
from retain.errors import InputError
from retain.services import current_snapshot, refresh
from retain.services.auth import create_api_key
from retain.workspace import Workspace

__all__ = ["ApiBenchResult", "RouteFigures", "load", "run_api_bench"]

EVENTS_PER_POST = 100
EVENTS_ROUTE = "/v1/events"


@dataclass(frozen=True)
class RouteFigures:
    """One route under load: latency percentiles of its requests and what the clients got through together."""

    route: str
    requests: int
    clients: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    throughput: float
    """Requests per second over the whole run (all clients together)."""
    errors: int
    """Answers other than 2xx."""


@dataclass(frozen=True)
class ApiBenchResult:
    customers: int
    clients: int
    health: RouteFigures
    customer_360: RouteFigures
    events: RouteFigures | None
    events_skipped: str | None = None
    """Why the events job did not run."""
    notes: list[str] = field(default_factory=list)

    @property
    def p99_ratio(self) -> float:
        """360 p99 / bare route p99 (the target is at most 5)."""
        return self.customer_360.p99_ms / self.health.p99_ms


def _percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    index = max(0, min(len(sorted_values) - 1, round(share * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def load(
    base: str,
    request: Callable[[httpx.Client, int], httpx.Response],
    *,
    route: str,
    clients: int,
    requests: int,
    headers: dict[str, str] | None = None,
    warmup: int = 2,
) -> RouteFigures:
    """``requests`` calls of ``request(client, i)`` spread over ``clients`` threads, each with its own connection.

    Each client first makes ``warmup`` untimed calls (the connection, the server thread's first use).
    """
    if clients < 1 or requests < clients:
        raise InputError(
            f"Need at least one client and one request per client (clients={clients}, requests={requests})."
        )
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_line = threading.Barrier(clients + 1)

    def run(worker: int) -> None:
        share = requests // clients + (1 if worker < requests % clients else 0)
        with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
            for i in range(warmup):
                with contextlib.suppress(httpx.TransportError):
                    request(client, -1 - i)
            start_line.wait()
            mine = latencies[worker]
            for i in range(share):
                began = time.perf_counter()
                try:
                    ok = request(client, worker * requests + i).is_success
                except httpx.TransportError:  # the server dropped the connection: an error, and a new connection
                    ok = False
                mine.append(time.perf_counter() - began)
                if not ok:
                    errors[worker] += 1

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    everything = sorted(x * 1000 for found in latencies for x in found)
    return RouteFigures(
        route=route,
        requests=len(everything),
        clients=clients,
        p50_ms=_percentile(everything, 0.50),
        p99_ms=_percentile(everything, 0.99),
        mean_ms=statistics.fmean(everything),
        throughput=len(everything) / elapsed,
        errors=sum(errors),
    )


def _bench_workspace(customers: int, work_dir: Path, seed: int, say: Callable[[str], None]) -> Workspace:
    ws = prepare_workspace(customers, work_dir, seed=seed, on_step=say)
    if current_snapshot(ws) is None:
        say("refresh (the 360 reads the current snapshot)")
        refresh(ws)
    return ws


def _customer_ids(ws: Workspace) -> list[str]:
    table = ws.table("customers")
    return ws.backend.to_pyarrow(table.select("customer_id")).column("customer_id").to_pylist()


def _events_body(schema: dict[str, Any], customers: list[str], rng: random.Random, at: datetime) -> Any:
    rows = [
        {
            "event_id": f"bench-{uuid.uuid4().hex}",
            "customer_id": rng.choice(customers),
            "event_type": "login",
            "occurred_at": (at - timedelta(seconds=rng.randrange(86_400))).isoformat(),
        }
        for _ in range(EVENTS_PER_POST)
    ]
    if schema.get("type") == "array":
        return rows
    arrays = [name for name, prop in schema.get("properties", {}).items() if prop.get("type") == "array"]
    return {arrays[0] if arrays else "rows": rows}


def _events_schema(document: dict[str, Any]) -> dict[str, Any] | None:
    """The request body schema of ``POST /v1/events`` (references resolved one level), ``None`` without it."""
    operation = document.get("paths", {}).get(EVENTS_ROUTE, {}).get("post")
    if operation is None:
        return None
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    ref = schema.get("$ref")
    if ref:
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def run_api_bench(
    customers: int,
    *,
    work_dir: Path,
    clients: int = 8,
    requests: int = 2000,
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
) -> ApiBenchResult:
    """Serve a workspace of ``customers`` and time ``/health``, the 360 and (when served) batch event posts."""
    say = on_step or (lambda _step: None)
    ws = _bench_workspace(customers, work_dir, seed, say)
    ids = _customer_ids(ws)
    key = create_api_key(ws, name=f"bench {datetime.now(UTC):%Y-%m-%d %H:%M}", scope="write").secret
    headers = {"Authorization": f"Bearer {key}"}
    rng = random.Random(seed)
    picks = [rng.choice(ids) for _ in range(requests + clients * 4)]
    say(f"retain serve -w {ws.path} (1 worker), {clients} clients")
    with serving(ws.path) as base:
        document = httpx.get(f"{base}/v1/openapi.json").json()
        say(f"/health: {requests:,} requests")
        health = load(base, lambda c, _i: c.get("/health"), route="/health", clients=clients, requests=requests)
        say(f"/v1/customers/{{id}}: {requests:,} requests, random customers")
        read = load(
            base,
            lambda c, i: c.get(f"/v1/customers/{picks[i % len(picks)]}"),
            route="/v1/customers/{id}",
            clients=clients,
            requests=requests,
            headers=headers,
        )
        events, skipped = None, None
        schema = _events_schema(document)
        if schema is None:
            skipped = f"{EVENTS_ROUTE} is not in the server's OpenAPI document (the live facts inbox is not served)"
        else:
            posts = max(clients, requests // 10)
            say(f"POST {EVENTS_ROUTE}: {posts:,} posts of {EVENTS_PER_POST} events")
            now = datetime.now(UTC)
            events = load(
                base,
                lambda c, _i: c.post(EVENTS_ROUTE, json=_events_body(schema, ids, random.Random(_i), now)),
                route=f"POST {EVENTS_ROUTE} ×{EVENTS_PER_POST}",
                clients=clients,
                requests=posts,
                headers=headers,
            )
    return ApiBenchResult(customers, clients, health, read, events, skipped)
