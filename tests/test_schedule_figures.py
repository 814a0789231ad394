"""The revisit schedule made visible (uzum.mode = "adaptive"): ids, visits in the last hour,
achieved interval, due now and oldest overdue per class (hot / warm / cold / dead / frontier),
and new products per hour, from hand-made `uzum_schedule` rows in real PostgreSQL — read
directly, on the status page, in /metrics (parsed by the Prometheus client), in
`marketplaced status`, and as "next check in M min" on the product page."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from marketplaced import db, report
from marketplaced.config import Config, DatabaseConfig
from marketplaced.jobs import triggers
from marketplaced.platforms.uzum import schedule_figures
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.figures_cache import FIGURES, FIGURES_TTL_S, schedule_cache
from tests.helpers.metrics import sample, scrape
from tests.helpers.settings import base_config
from tests.helpers.web import ClientFactory, page, static_status

H, MIN, D = 3600, 60, 86400

#: product_id → (checked_at, next_due, misses), seconds relative to a base time; the highest
#: product ever seen is 1004, so 1005… are the frontier
ROWS = {
    1001: (-30 * MIN, 45 * MIN, 0),  # hot: interval 1 h 15 min, visited in the last hour
    1002: (-2 * H, -10 * MIN, 0),  # hot: interval 1 h 50 min, overdue 10 min
    1003: (-3 * H, 9 * H, 0),  # warm: 12 h
    1004: (-2 * D, 5 * D, 0),  # cold: 7 d
    900: (None, -2 * H, 0),  # cold: seeded, never visited, overdue 2 h
    950: (-20 * H, -30 * MIN, 1),  # dead, overdue 30 min
    951: (-5 * D, 3 * D, 3),  # dead
    1005: (-4 * MIN, 1 * MIN, 0),  # frontier, visited in the last hour
    1006: (-4 * MIN, -3 * MIN, 0),  # frontier, visited in the last hour, overdue 3 min
    1007: (None, -45 * MIN, 0),  # frontier, never visited, overdue 45 min
}
#: class → (ids, visits last hour, median achieved interval s, due, oldest overdue s)
EXPECTED = {
    # achieved = greatest(next_due, now) - checked_at: 1001 75 min, 1002 2 h → median 97.5 min
    "hot": (2, 1, (75 * MIN + 2 * H) / 2, 1, 10 * MIN),
    "warm": (1, 0, 12 * H, 0, 0),
    "cold": (2, 0, 7 * D, 1, 2 * H),
    # 950: 20 h (overdue, so up to now), 951: 8 d
    "dead": (2, 0, (20 * H + 8 * D) / 2, 1, 30 * MIN),
    # 1005: 5 min, 1006: 4 min (overdue, up to now)
    "frontier": (3, 2, 4.5 * MIN, 2, 45 * MIN),
}


async def _seed(conn: asyncpg.Connection, base: datetime) -> None:
    def at(s: float | None) -> datetime | None:
        return None if s is None else base + timedelta(seconds=s)

    await conn.execute("DELETE FROM uzum_schedule")
    await conn.execute("DELETE FROM uzum_visits")
    await conn.execute(
        "INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome) "
        "SELECT id, $1, $1, 'unchanged' FROM products WHERE id BETWEEN 1001 AND 1004",
        base - timedelta(days=3),
    )
    await conn.execute(
        "UPDATE uzum_visits SET visited_at = $1 WHERE product_id = 1001", at(ROWS[1001][0])
    )
    # one product first seen 20 minutes ago, the others days ago
    await conn.execute("UPDATE products SET first_seen = $1", base - timedelta(days=10))
    await conn.execute(
        "UPDATE products SET first_seen = $1 WHERE id = 1003", base - timedelta(minutes=20)
    )
    await conn.executemany(
        "INSERT INTO uzum_schedule (product_id, checked_at, next_due, misses) "
        "VALUES ($1, $2, $3, $4)",
        [(pid, at(c), at(d), m) for pid, (c, d, m) in ROWS.items()],
    )


async def _seed_now(cfg: DatabaseConfig) -> None:
    conn = await db.connect(cfg)
    try:
        await _seed(conn, datetime.now(UTC))
    finally:
        await conn.close()


def adaptive(cfg: DatabaseConfig | None = None, **more: object) -> Config:
    c = base_config(uzum={"mode": "adaptive"}, **more)  # type: ignore[arg-type]
    return c if cfg is None else dataclasses.replace(c, database=cfg)


def roundrobin_config() -> Config:
    return base_config(uzum={"mode": "roundrobin"})


async def test_the_figures_per_class_are_exact(web_db: DatabaseConfig) -> None:
    base = datetime(2026, 3, 1, 12, tzinfo=UTC)
    conn = await db.connect(web_db)
    try:
        await _seed(conn, base)
        f = await schedule_figures.read(conn, base)
    finally:
        await conn.close()
    got = {
        c.name: (c.ids, c.visits_last_hour, c.interval_s, c.due, c.oldest_overdue_s)
        for c in f.classes
    }
    assert got == EXPECTED
    assert list(got) == ["hot", "warm", "cold", "dead", "frontier"]
    assert (f.due, f.oldest_overdue_s, f.new_products_last_hour) == (5, 2 * H, 1)
    assert schedule_figures.backlog_line(f) == "due now: 5, oldest overdue: 2.0 h"


async def test_an_empty_schedule_shows_every_class_at_zero(fresh_db: DatabaseConfig) -> None:
    conn = await db.connect(fresh_db)
    try:
        f = await schedule_figures.read(conn, datetime.now(UTC))
    finally:
        await conn.close()
    assert [(c.name, c.ids, c.due, c.interval_s) for c in f.classes] == [
        (name, 0, 0, None) for name in ("hot", "warm", "cold", "dead", "frontier")
    ]
    assert (f.due, f.oldest_overdue_s, f.new_products_last_hour) == (0, 0.0, 0)


def _schedule_rows(html: str) -> dict[str, list[str]]:
    table = html.split('id="schedule"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(\w+)</td>(.*?)</tr>", table, re.S)
    return {name: re.findall(r"<td[^>]*>(.*?)</td>", cells) for name, cells in rows}


async def test_the_status_page_shows_the_schedule_in_adaptive_mode_only(
    make_client: ClientFactory, web_db: DatabaseConfig
) -> None:
    await _seed_now(web_db)
    client, _ = await make_client(cfg=adaptive())
    html = await page(client, "/status")
    assert "<h2>Revisit schedule</h2>" in html
    backlog = html.split('id="schedule-backlog">', 1)[1].split("</p>", 1)[0]
    assert backlog == "due now: 5, oldest overdue: 2.0 h · new products found in the last hour: 1"
    assert _schedule_rows(html) == {
        "hot": ["2", "1", "1.6 h", "1", "10.0 min"],
        "warm": ["1", "0", "12.0 h", "0", "—"],
        "cold": ["2", "0", "7.0 d", "1", "2.0 h"],
        "dead": ["2", "0", "4.4 d", "1", "30.0 min"],
        "frontier": ["3", "2", "4.5 min", "2", "45.0 min"],
    }
    roundrobin, _ = await make_client(cfg=roundrobin_config())
    assert "Revisit schedule" not in await page(roundrobin, "/status")


async def test_metrics_carry_the_schedule_per_class(
    make_client: ClientFactory, web_db: DatabaseConfig
) -> None:
    await _seed_now(web_db)
    client, _ = await make_client(cfg=adaptive())
    families = await scrape(client)
    for name, (ids, visits, interval_s, due, overdue_s) in EXPECTED.items():
        assert sample(families["marketplaced_schedule_ids"], **{"class": name}) == ids
        visited = sample(families["marketplaced_schedule_visits_last_hour"], **{"class": name})
        assert visited == visits
        assert sample(families["marketplaced_schedule_due"], **{"class": name}) == due
        # the scrape runs a moment after the rows were made: overdue times have grown by it
        overdue = sample(
            families["marketplaced_schedule_oldest_overdue_seconds"], **{"class": name}
        )
        assert overdue == 0 if due == 0 else overdue_s <= overdue < overdue_s + 60
        got = sample(families["marketplaced_schedule_interval_seconds"], **{"class": name})
        assert interval_s <= got < interval_s + 60
    new = families["marketplaced_schedule_new_products_last_hour"]
    assert sample(new) == 1
    roundrobin, _ = await make_client(cfg=roundrobin_config())
    assert not [n for n in await scrape(roundrobin) if n.startswith("marketplaced_schedule")]


async def test_marketplaced_status_reports_the_schedule(
    redis_client: aioredis.Redis, web_db: DatabaseConfig
) -> None:
    await _seed_now(web_db)
    cfg = adaptive(web_db)
    got = await report.gather(cfg)
    text = "\n".join(report.lines(got, triggers.timezone(cfg.jobs.timezone)))
    assert (
        "revisit schedule: due now: 5, oldest overdue: 2.0 h; new products in the last hour: 1"
        in text
    )
    assert (
        "schedule hot: 2 ids  visits last hour 1  interval 1.6 h  due 1  oldest overdue 10.0 min"
        in text
    )
    assert "schedule warm: 1 ids  visits last hour 0  interval 12.0 h  due 0  oldest overdue —" in (
        text
    )
    assert "schedule frontier: 3 ids  visits last hour 2  interval 4.5 min  due 2" in text
    as_json = report.as_json(got)["schedule"]
    assert (as_json["due"], as_json["new_products_last_hour"]) == (5, 1)
    assert as_json["classes"]["dead"]["ids"] == 2
    plain = await report.gather(dataclasses.replace(roundrobin_config(), database=web_db))
    assert "revisit schedule" not in "\n".join(report.lines(plain, triggers.timezone("UTC")))
    assert "schedule" not in report.as_json(plain)


async def test_the_product_page_says_when_it_is_checked_next(
    make_client: ClientFactory, web_db: DatabaseConfig
) -> None:
    await _seed_now(web_db)
    client, _ = await make_client(cfg=adaptive())
    html = await page(client, "/products/1001")
    checked = html.split('id="checked">', 1)[1].split("</p>", 1)[0]
    assert checked == "checked 30 min ago, next check in 45 min"
    overdue = await page(client, "/products/1002")
    assert "next check due now" in overdue.split('id="checked">', 1)[1].split("</p>", 1)[0]
    conn = await db.connect(web_db)
    try:
        await conn.execute("DELETE FROM uzum_schedule WHERE product_id = 1001")
    finally:
        await conn.close()
    # no schedule row (round-robin mode): only when it was checked
    html = await page(client, "/products/1001")
    assert html.split('id="checked">', 1)[1].split("</p>", 1)[0] == "checked 30 min ago"


async def test_new_products_are_counted_from_an_index_not_a_scan(
    fresh_db: DatabaseConfig,
) -> None:
    """The figures are read on every scrape: the new products of the last hour are the newest
    entries of an index, not a pass over every product (seconds at 1.5 M products)."""
    conn = await db.connect(fresh_db)
    try:
        await conn.execute(
            "INSERT INTO products (id, title, first_seen) "
            "SELECT g, 'Mahsulot ' || g, now() - interval '1 day' * (1 + g % 300) "
            "FROM generate_series(1, 50000) g"
        )
        await conn.execute(
            "UPDATE products SET first_seen = now() - interval '10 minutes' WHERE id <= 3"
        )
        await conn.execute("VACUUM ANALYZE products")
        now = datetime.now(UTC)
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                f"EXPLAIN {schedule_figures._FIGURES}", now, ["hot", "warm", "cold"]
            )
        )
        assert "products_first_seen" in plan, plan
        assert "Seq Scan on products" not in plan, plan
        assert (await schedule_figures.read(conn, now)).new_products_last_hour == 3
    finally:
        await conn.close()


async def test_the_status_page_and_metrics_share_one_read_for_a_while(
    aiohttp_client: Any, web_db: DatabaseConfig
) -> None:
    """Each read scans the whole schedule: one read answers both pages for FIGURES_TTL_S, and
    each says how old its figures are; after that a request gets them at once while the next
    read runs in the background."""
    await _seed_now(web_db)
    pool = await db.create_pool(web_db)
    clock = [1000.0]
    try:
        source = static_status()
        app = create_app(WebDeps(pool, adaptive(web_db), source, source, summary_refresh_s=None))
        app[FIGURES] = schedule_cache(pool, clock=lambda: clock[0])
        client = await aiohttp_client(app)
        html = await page(client, "/status")
        assert "due now: 5," in html and "figures read 0 s ago" in html
        await pool.execute(
            "INSERT INTO uzum_schedule (product_id, next_due, misses) "
            "VALUES (1008, now() - interval '5 minutes', 0)"
        )

        def due(families: dict[str, Any]) -> float:
            return sum(s.value for s in families["marketplaced_schedule_due"].samples)

        clock[0] += 20
        families = await scrape(client)  # the status page's read, 20 s old
        assert due(families) == 5
        assert sample(families["marketplaced_schedule_figures_age_seconds"]) == 20
        clock[0] += FIGURES_TTL_S - 20
        # past the TTL: answered at once with the last read, the next one runs meanwhile
        families = await scrape(client)
        assert due(families) == 5
        assert sample(families["marketplaced_schedule_figures_age_seconds"]) == FIGURES_TTL_S
        await app[FIGURES].settled()
        families = await scrape(client)  # the new read: the new id is due
        assert due(families) == 6
        assert sample(families["marketplaced_schedule_figures_age_seconds"]) == 0
        html = await page(client, "/status")
        assert "due now: 6," in html and "figures read 0 s ago" in html
        # after a long quiet spell a request waits for a fresh read instead of old figures
        await pool.execute("DELETE FROM uzum_schedule WHERE product_id = 1008")
        clock[0] += 10 * FIGURES_TTL_S
        assert "due now: 5," in await page(client, "/status")
    finally:
        await pool.close()
