"""Small durable state of the jobs (watermarks, last health verdict) in `job_state`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_LOAD = "SELECT value FROM job_state WHERE name = $1"
_SAVE = """
INSERT INTO job_state (name, value, updated_at) VALUES ($1, $2::jsonb, now())
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at"""


async def load_state(conn: Any, name: str) -> dict[str, Any]:
    """The stored value of `name` ({} when none); `conn` is a pool or a connection."""
    raw = await conn.fetchval(_LOAD, name)
    if raw is None:
        return {}
    value = json.loads(raw) if isinstance(raw, str) else raw
    return dict(value)


async def save_state(conn: Any, name: str, value: Mapping[str, Any]) -> None:
    await conn.execute(_SAVE, name, json.dumps(dict(value), default=str))
