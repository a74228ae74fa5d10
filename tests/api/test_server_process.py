"""A real ``retain serve`` process on loopback: health without a key, whoami with one, and concurrent reads.

The server runs sync routes in a thread pool; a DuckDB connection takes one call at a time (a second one fails
"connection is busy"), so each thread reads through its own cursor. Eight clients at once reading 360s and
metrics must all get exactly the answers a lone client gets.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from retain.bench.api_server import serving


def _customers(company, n: int) -> list[str]:
    with company.ws.connect() as connection:
        rows = connection.execute(sa.text("SELECT customer_id FROM customer_profiles ORDER BY customer_id"))
        ids = [row[0] for row in rows]
    return ids[:: len(ids) // n][:n]


def test_a_served_workspace_answers_health_whoami_and_eight_clients_at_once(company, company_client, keys):
    urls = [f"/v1/customers/{c}" for c in _customers(company, 4)]
    urls += ["/v1/metrics?freq=month&last=24", "/v1/metrics?freq=quarter", "/v1/segments", "/v1/cohorts"]
    headers = {"X-API-Key": keys["read"]}
    expected = {}
    for url in urls:
        alone = company_client.get(url, headers=headers)
        assert alone.status_code == 200, alone.text
        expected[url] = alone.json()

    with serving(company.ws.path) as base:
        health = httpx.get(f"{base}/health")
        assert (health.status_code, health.json()["status"]) == (200, "ok")
        assert httpx.get(f"{base}/v1/whoami").status_code == 401
        whoami = httpx.get(f"{base}/v1/whoami", headers={"Authorization": f"Bearer {keys['read']}"})
        assert whoami.status_code == 200 and whoami.json()["scope"] == "read"
        assert whoami.json()["subject"].startswith("key:")

        def client_run(worker: int) -> list[str]:
            wrong = []
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                for round_ in range(2):
                    for i in range(len(urls)):
                        url = urls[(i + worker + round_) % len(urls)]  # each client in another order
                        answer = client.get(url)
                        if answer.status_code != 200 or answer.json() != expected[url]:
                            wrong.append(f"{url}: {answer.status_code} {answer.text[:200]}")
            return wrong

        with ThreadPoolExecutor(8) as pool:
            wrong = [problem for found in pool.map(client_run, range(8)) for problem in found]
    assert wrong == []
