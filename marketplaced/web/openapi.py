"""The OpenAPI 3.1 description of `/api/v1`, `/healthz` and `/metrics`, served at
`/api/v1/openapi.json`, and its Markdown rendering (docs/api.md).

Nothing here declares a parameter or a field: the document is written from the endpoint table
(endpoints.py), whose query tables are the ones the handlers validate against and whose schemas
describe the answers field by field. `python -m marketplaced.web.openapi` prints the Markdown
that docs/api.md holds (a test checks the file is current).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

from aiohttp import web

from marketplaced.web.endpoints import API, PROBES, Endpoint
from marketplaced.web.param_spec import Param

_JSON = "application/json"
#: what /metrics answers with by default (prometheus_client's text format)
_PROMETHEUS = "text/plain"


def _param(param: Param, where: str) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": where,
        "required": where == "path",
        "schema": param.schema(),
        "description": param.description,
    }


def _responses(ep: Endpoint) -> dict[str, Any]:
    if ep.content == "prometheus":
        ok = {"description": "the metrics", "content": {_PROMETHEUS: {"schema": ep.schema}}}
    else:
        ok = {"description": "the answer", "content": {_JSON: {"schema": ep.schema}}}
    responses: dict[str, Any] = {"200": ok}
    if ep.strict:
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
    if ep.not_found:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    if ep.unavailable:
        responses["503"] = {"description": "not healthy: the reasons", "content": ok["content"]}
    return responses


def _operation(ep: Endpoint) -> dict[str, Any]:
    return {
        "get": {
            "summary": ep.summary,
            "operationId": ep.handler.__name__,
            "parameters": [
                *(_param(p, "path") for p in ep.path_params),
                *(_param(p, "query") for p in ep.query),
            ],
            "responses": _responses(ep),
        }
    }


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            _JSON: {
                "schema": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                }
            }
        },
    }


@cache
def document() -> dict[str, Any]:
    """The whole document (built once: it depends on nothing but the code)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "marketplaced API", "version": "1"},
        "security": [{"bearer": []}],
        "paths": {ep.path: _operation(ep) for ep in (*API, *PROBES)},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "BadRequest": _error("a parameter is unknown or invalid"),
                "NotFound": _error("no such object"),
                "Unauthorized": {"description": "token required (only when one is configured)"},
            },
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


def markdown() -> str:
    """The document as a human reference: per endpoint its parameters and answer fields."""
    lines = [
        "# HTTP API",
        "",
        "Generated from the endpoint table by `python -m marketplaced.web.openapi`; do not edit.",
        "The same description is served as OpenAPI 3.1 at `/api/v1/openapi.json`.",
        "",
    ]
    for path, item in document()["paths"].items():
        op = item["get"]
        lines += [f"## `GET {path}`", "", op["summary"] + ".", ""]
        if op["parameters"]:
            lines += ["| parameter | in | type | description |", "| --- | --- | --- | --- |"]
            lines += [
                f"| `{p['name']}` | {p['in']} | {_type_text(p['schema'])} | {p['description']} |"
                for p in op["parameters"]
            ]
            lines.append("")
        fields = _fields(op["responses"]["200"]["content"])
        if fields:
            lines += [f"Answer fields: {', '.join(f'`{f}`' for f in fields)}.", ""]
    return "\n".join(lines)


def _type_text(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        text = " \\| ".join(f"`{v}`" for v in schema["enum"])
    else:
        text = str(schema.get("format") or schema["type"])
        if "minimum" in schema:
            text += f" {_number(schema['minimum'])}–{_number(schema['maximum'])}"
        if "maxLength" in schema:
            text += f", {schema['minLength']}–{schema['maxLength']} characters"
    if "default" in schema:
        text += f" (default `{schema['default']}`)"
    return text


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _fields(content: dict[str, Any]) -> list[str]:
    """Top-level fields of the answer, and an item's fields as `items[].name` for a list."""
    schema = next(iter(content.values()))["schema"]
    schema = schema.get("oneOf", [schema])[0]
    props = schema.get("properties", {})
    out = list(props)
    items = props.get("items", {}).get("items", {}).get("properties", {})
    out += [f"items[].{name}" for name in items]
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--json"]:
        print(json.dumps(document(), indent=1, ensure_ascii=False))
    else:
        print(markdown())
