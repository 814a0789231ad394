"""The category overview bands prices with `[jobs] price_bands`, the edges the analytics job
uses, not with edges of its own; labels always belong to the counts shown.

Uses the web seed (tests/helpers/web.py) in this module's own database: electronics
(category 10) has one product under 50k and one at 1.5M so'm."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from marketplaced import db, price_bands
from marketplaced.config import DatabaseConfig
from marketplaced.web import summaries
from marketplaced.web.app import WebDeps, create_app
from tests.helpers.settings import base_config
from tests.helpers.web import static_status

#: one edge at 1M so'm: two bands, "< 1M" and "≥ 1M"
EDGES = "1000000"
#: waiting for the app's own summary refresh (an event, not a timing check)
REFRESH_WAIT_S = 30.0


async def _electronics_bands(client: TestClient) -> dict[str, Any]:
    resp = await client.get("/api/v1/categories/overview")
    assert resp.status == 200
    items = (await resp.json())["items"]
    bands: dict[str, Any] = next(i for i in items if i["id"] == 10)["price_bands"]
    return bands


async def _stored_edges(pool: asyncpg.Pool) -> list[int]:
    return list(await pool.fetchval("SELECT edges FROM web_price_band_edges"))


def test_labels_follow_the_edges() -> None:
    default = price_bands.edges(base_config().jobs.price_bands)
    assert price_bands.labels(default) == (
        "< 50k",
        "50k–100k",
        "100k–250k",
        "250k–500k",
        "500k–1M",
        "1M–5M",
        "≥ 5M",
    )
    assert price_bands.labels(price_bands.edges("2500000,1000,1000")) == (
        "< 1k",
        "1k–2.5M",
        "≥ 2.5M",
    )


async def test_overview_bands_prices_with_the_configured_edges(
    aiohttp_client: Any, web_db: DatabaseConfig
) -> None:
    cfg = dataclasses.replace(base_config(jobs={"price_bands": EDGES}), database=web_db)
    pool = await db.create_pool(web_db)
    try:
        # a summary computed before the change keeps the labels of its own edges
        source = static_status()
        plain = await aiohttp_client(create_app(WebDeps(pool, cfg, source, source, None)))
        before = await _electronics_bands(plain)
        assert before["1M–5M"] == 1 and before["< 50k"] == 1 and len(before) == 7

        # the app's refresher writes the configured edges and recomputes the summary
        refreshing = await aiohttp_client(
            create_app(WebDeps(pool, cfg, source, source, summary_refresh_s=0.01))
        )
        async with asyncio.timeout(REFRESH_WAIT_S):
            while await _stored_edges(pool) != [1_000_000]:  # noqa: ASYNC110 - PostgreSQL sets no event
                await asyncio.sleep(0.05)
        await refreshing.close()
        await summaries.refresh(pool)  # a refresh without edges keeps the stored ones

        assert await _electronics_bands(plain) == {"< 1M": 1, "≥ 1M": 1}
        page = await (await plain.get("/analytics/categories")).text()
        assert "≥ 1M: 50%" in page and "1M–5M" not in page
        csv_head = (await (await plain.get("/analytics/categories.csv")).text()).splitlines()[0]
        assert csv_head.endswith("< 1M,≥ 1M")
    finally:
        await pool.close()
