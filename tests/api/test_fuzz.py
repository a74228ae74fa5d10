"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis): no input gives a 5xx,
and every 200 answer matches the document's schema.

Runs in-process (ASGI) against ``create_app`` on the synthetic company — real data, a trained model, a refreshed
snapshot, the built-in playbooks run — with an admin key, so every route is reached past its authentication.
Each operation of the document gets ``EXAMPLES`` generated requests (Hypothesis strategies from schemathesis;
its lazy pytest loader does not run on pytest 9, so the operations are walked here).
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given, settings

from retain.api import create_app
from retain.api.app import OPENAPI_URL
from retain.services.auth import create_api_key

EXAMPLES = 60
SLOW = {"/v1/at-risk": 20}
"""Fewer examples where one request scores every customer (about a second each here)."""


def test_no_request_makes_the_server_fail(company):
    app = create_app(company.ws.settings, clock=company.ws.clock)
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app)
    headers = {"Authorization": f"Bearer {create_api_key(company.ws, name='fuzzing', scope='admin').secret}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=SLOW.get(operation.path, EXAMPLES),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}: "
                f"{response.status_code} {response.text[:300]}"
            )
            if response.status_code == 200:
                case.operation.validate_response(response)

        started = time.perf_counter()
        try:
            fuzz()
        except AssertionError as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
        except Exception as error:  # a schema mismatch of a 200 answer is reported as schemathesis' own error
            failures.append(f"{operation.method.upper()} {operation.path}: {type(error).__name__}: {error}")
        print(f"{operation.method.upper()} {operation.path}: {time.perf_counter() - started:.1f} s")
    assert failures == []
