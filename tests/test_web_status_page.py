"""The status page and /healthz as an operator meets them: scanner limits, bad stored values,
PostgreSQL down, pause for every scanner, local times.

Shares the seeded module database and the client factory of test_web_pages.
"""

from __future__ import annotations

from marketplaced.web.status import ScannerStatus, StaticStatus
from marketplaced.web.views.common import POOL
from tests import test_web_pages as pages
from tests.conftest import base_config
from tests.test_web_pages import ClientFactory

web_db = pages.web_db
make_client = pages.make_client
client = pages.client


def _scanning(name: str, stale_s: float) -> ScannerStatus:
    return ScannerStatus(name, {"state": "scanning", "stale_s": stale_s, "rate": 1.0})


async def test_healthz_judges_each_scanner_by_its_own_platforms_limit(
    make_client: ClientFactory,
) -> None:
    cfg = base_config(uzum={"max_stale_s": 300.0}, uzex={"max_stale_s": 900.0})
    # between the two limits: fine for a UZEX scanner (a page of items takes long), a stall
    # for the Uzum one
    status = StaticStatus(
        scanner_list=[_scanning("uzex.auction.completed", 600.0), _scanning("uzum.products", 1.0)]
    )
    client, _ = await make_client(status=status, cfg=cfg)
    pool = client.app[POOL]
    # the seeded failing health check would fail /healthz whatever the scanners do
    await pool.execute("UPDATE health_checks SET checked_at = checked_at - interval '1 day'")
    try:
        ok = await (await client.get("/healthz")).json()
        status.scanner_list = [
            _scanning("uzex.auction.completed", 1000.0),
            _scanning("uzum.products", 400.0),
        ]
        failing = await client.get("/healthz")
        body = await failing.json()
    finally:
        await pool.execute("UPDATE health_checks SET checked_at = checked_at + interval '1 day'")
    assert ok["reasons"] == [], ok
    assert failing.status == 503
    assert body["reasons"] == [
        "uzex.auction.completed: no progress for 1000 s",
        "uzum.products: no progress for 400 s",
    ]
