"""docs/api.md names every route of the OpenAPI document, with its method, and every error code the API maps."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_api_page_lists_every_route_and_method(client):
    documented = set(re.findall(r"^\| (GET|POST|DELETE|PUT|PATCH) \| `([^`]+)` \|", DOC.read_text(), re.M))
    paths = client.get("/v1/openapi.json").json()["paths"]
    served = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert served - documented == set(), "routes missing from docs/api.md"
    assert documented - served == set(), "docs/api.md lists routes the API does not serve"


def test_the_api_page_lists_the_error_codes(client):
    text = DOC.read_text()
    for code in ("unauthorized", "forbidden_scope", "csrf_failed", "not_found", "no_data", "invalid_request"):
        assert f"`{code}`" in text
