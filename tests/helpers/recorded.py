"""The recorded upstream payloads the tests, benchmarks and docs use, defined in one place.

They are real 2025–2026 responses kept in the repository (`tests/fixtures/`, see its README), so
a fresh clone runs every test without anything beside it. Never edit them to make a parser pass.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
UZUM = FIXTURES / "uzum"
UZEX = FIXTURES / "uzex"


@functools.cache
def uzum_text(pid: int) -> str:
    """The raw body of `GET /api/v2/product/{pid}` as recorded."""
    return (UZUM / f"product_{pid}.json").read_text(encoding="utf-8")


def uzum_json(pid: int) -> Any:
    """The recorded Uzum product body, decoded (control characters in strings allowed)."""
    return json.loads(uzum_text(pid), strict=False)


def uzex_json(name: str) -> Any:
    """A recorded UZEX body; a `.capture.json` holds `{url, request_payload, response_data}`."""
    data = json.loads((UZEX / name).read_text(encoding="utf-8"))
    return data["response_data"] if name.endswith(".capture.json") else data
