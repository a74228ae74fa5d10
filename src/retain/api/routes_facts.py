"""``POST /v1/{customers,orders,subscriptions,events,tickets,feedback}``: facts as they happen, into the inbox.

Each route takes one JSON object or an array of them, validated by the same contract as file ingest; the answer
says per fact whether it was accepted, a duplicate (posted before: nothing changed) or rejected, with every
problem found. Accepted facts reach the lake at the next flush (the server's own, every ``[inbox]
flush_seconds`` or ``flush_rows``, or `retain flush`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel

from retain.api.flusher import tell_flusher
from retain.api.security import require, workspace
from retain.services.auth import ApiScope, Principal
from retain.services.live_facts import MAX_FACTS_PER_CALL, AcceptResult, FactStatus, accept_facts
from retain.workspace import Workspace

__all__ = ["FACT_TABLES", "router"]

FACT_TABLES = ("customers", "orders", "subscriptions", "events", "tickets", "feedback")

router = APIRouter(tags=["facts"])


class Problem(BaseModel):
    column: str
    reason: str
    expected: str
    found: str | None


class Outcome(BaseModel):
    index: int
    status: FactStatus
    key: dict[str, str] | None = None
    problems: list[Problem] = []


class Accepted(BaseModel):
    table: str
    accepted: int
    duplicates: int
    rejected: int
    facts: list[Outcome]


def _answer(result: AcceptResult) -> Accepted:
    return Accepted(
        table=result.table,
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        facts=[
            Outcome(
                index=f.index,
                status=f.status,
                key=f.key,
                problems=[
                    Problem(column=p.column, reason=p.reason, expected=p.expected, found=p.found) for p in f.problems
                ],
            )
            for f in result.facts
        ],
    )


PostedFacts = Annotated[
    dict[str, Any] | list[dict[str, Any]],
    Body(
        description=f"One fact (a JSON object of the table's columns), or an array of at most {MAX_FACTS_PER_CALL:,}."
    ),
]
"""Module level: the routes' annotations are strings (postponed evaluation) resolved in this module's globals."""


def _route(table: str):
    def post_facts(
        request: Request,
        facts: PostedFacts,
        ws: Annotated[Workspace, Depends(workspace)],
        _principal: Annotated[Principal, Depends(require(ApiScope.WRITE))],
    ) -> Accepted:
        rows = facts if isinstance(facts, list) else [facts]
        result = accept_facts(ws, table, rows, source="api")
        tell_flusher(request, result.accepted)
        return _answer(result)

    post_facts.__name__ = f"post_{table}"
    return post_facts


for _table in FACT_TABLES:
    router.add_api_route(
        f"/v1/{_table}",
        _route(_table),
        methods=["POST"],
        response_model=Accepted,
        summary=f"Send {_table} facts (one or a batch)",
        operation_id=f"post_{_table}",
    )
