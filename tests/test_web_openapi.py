"""The OpenAPI document against the running app: every route is described, every parameter a
route accepts is documented and nothing more, the documented bounds are the enforced ones, real
answers match the documented schemas, and docs/api.md is the document's current rendering.

Uses the seeded database and the client factory of tests/helpers/web.py (its own module
database)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from marketplaced.web import openapi

DOCS_API = Path(__file__).resolve().parent.parent / "docs" / "api.md"
#: path parameters of the seeded rows, so that each route answers 200 or a parameter error
SAMPLE_PATH = {"id": "1001", "type": "auction"}
#: a seeded object for each detail route (the ids differ per kind of object)
SAMPLE_URLS = {
    "/api/v1/products/{id}": "/api/v1/products/1001",
    "/api/v1/products/{id}/history": "/api/v1/products/1001/history?days=30",
    "/api/v1/sellers/{id}": "/api/v1/sellers/100",
    "/api/v1/sellers/{id}/sales": "/api/v1/sellers/100/sales",
    "/api/v1/seller-comparison": "/api/v1/seller-comparison?ids=100,101",
    "/api/v1/compare": "/api/v1/compare?q=redmi",
    "/api/v1/categories/{id}/market": "/api/v1/categories/10/market?period=30d",
    "/api/v1/uzex/lots/{type}/{id}": "/api/v1/uzex/lots/auction/379556",
}
_ACCEPTED = re.compile(r"unknown parameter 'zz_undocumented' \(accepted: (.*)\)")


def _json_routes(client: TestClient) -> set[str]:
    """The app's GET routes that answer JSON or metrics: the API, /healthz and /metrics."""
    paths = set()
    for route in client.app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method == "GET" and (
            canonical.startswith("/api/v1/") or canonical in ("/healthz", "/metrics")
        ):
            paths.add(canonical)
    return paths - {"/api/v1/openapi.json"}  # the document does not describe itself


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH[m.group(1)], path)


def _query_params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


async def _spec(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    spec: dict[str, Any] = await resp.json()
    return spec


async def test_document_is_valid_openapi_3_and_describes_every_route(client: TestClient) -> None:
    spec = await _spec(client)
    validate(spec)  # raises with the offending part when the shape is not OpenAPI 3.1
    assert set(spec["paths"]) == _json_routes(client)
    assert {"/healthz", "/metrics"} <= set(spec["paths"])


async def test_every_accepted_parameter_is_documented_and_vice_versa(client: TestClient) -> None:
    """Asks each route itself what it accepts: an unknown parameter is refused with the list
    of the accepted ones, which must be exactly the documented ones."""
    spec = await _spec(client)
    for path in sorted(_json_routes(client)):
        operation = spec["paths"][path]["get"]
        documented = set(_query_params(operation))
        resp = await client.get(_url(path), params={"zz_undocumented": "1"})
        if "400" not in operation["responses"]:
            # /healthz and /metrics ignore query strings: they take nothing to document
            assert resp.status in (200, 503), path
            assert documented == set(), path
            continue
        assert resp.status == 400, path
        match = _ACCEPTED.search((await resp.json())["error"])
        assert match is not None, path
        accepted = set() if match.group(1) == "none" else set(match.group(1).split(", "))
        assert accepted == documented, path


async def test_documented_bounds_are_the_enforced_ones(client: TestClient) -> None:
    spec = await _spec(client)
    checked = 0
    for path, item in spec["paths"].items():
        for name, param in _query_params(item["get"]).items():
            schema = param["schema"]
            if "maximum" in schema and schema["type"] == "integer":
                url, sep = _url(path), "?"
                over = await client.get(f"{url}{sep}{name}={schema['maximum'] + 1}")
                error = (await over.json())["error"]
                expected = f"between {schema['minimum']} and {schema['maximum']}"
                assert over.status == 400 and f"'{name}'" in error and expected in error, (
                    path,
                    name,
                    error,
                )
                checked += 1
            if "enum" in schema:
                url, sep = _url(path), "?"
                bad = await client.get(f"{url}{sep}{name}=zz")
                error = (await bad.json())["error"]
                assert bad.status == 400 and ", ".join(schema["enum"]) in error, (path, name)
                checked += 1
    assert checked > 20  # every list has a limit and most a sort: the walk really ran


async def test_answers_match_the_documented_schemas(client: TestClient) -> None:
    """Real answers from the seeded database validate against closed schemas: a field the API
    returns but the document does not name (or a wrong type) fails here."""
    spec = await _spec(client)
    for path in sorted(_json_routes(client) - {"/metrics"}):
        url = SAMPLE_URLS.get(path, _url(path))
        resp = await client.get(url)
        assert resp.status in (200, 503), (url, resp.status, await resp.text())
        content = spec["paths"][path]["get"]["responses"][str(resp.status)]["content"]
        schema = content["application/json"]["schema"]
        body = await resp.json()
        Draft202012Validator(schema).validate(body)
        if isinstance(body.get("items"), list):
            assert body["items"], f"{url}: the seed should give the list something to check"
            item = schema.get("oneOf", [schema])[0]["properties"]["items"]["items"]
            # a real item schema: every field named, nothing else allowed
            assert item["additionalProperties"] is False, path
            assert set(item["required"]) == set(item["properties"]), path
    metrics = await client.get("/metrics")
    assert metrics.status == 200
    assert metrics.content_type in spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]


def test_docs_api_md_is_the_current_rendering() -> None:
    assert DOCS_API.read_text(encoding="utf-8") == openapi.markdown() + "\n", (
        "docs/api.md is stale: python -m marketplaced.web.openapi > docs/api.md"
    )
