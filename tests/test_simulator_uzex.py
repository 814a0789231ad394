"""The UZEX simulator: recorded shapes, pagination, upstream gates and simulated time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from marketplaced.config import BROWSER_USER_AGENT
from marketplaced.platforms.uzex import parser
from marketplaced.platforms.uzex.records import LOT_TYPES, LotItemRecord, LotRecord, LotType
from marketplaced.simulator.uzex import (
    UZEX_SIMULATOR,
    UzexCatalogue,
    UzexSimulator,
    add_uzex_routes,
)
from tests.helpers import recorded

BROWSER = {"User-Agent": BROWSER_USER_AGENT}
WINDOW = {"region_ids": [], "from": 1, "to": 100}
SHOP = {"display_on_shop": 1, "display_on_national": 0}
NATIONAL = {"display_on_shop": 0, "display_on_national": 1}

Client = TestClient[web.Request, web.Application]


def load(name: str) -> Any:
    return recorded.uzex_json(name)


def kind(value: object) -> str:
    return "null" if value is None else type(value).__name__  # bool, int, float distinct


def assert_shape(actual: object, examples: list[Any], path: str = "$") -> None:
    """`actual` has the keys and JSON types of the fixture examples; a null example accepts any."""
    if not examples or any(e is None for e in examples):
        return
    kinds = {kind(e) for e in examples}
    assert kind(actual) in kinds, f"{path}: {kind(actual)}, fixture has {sorted(kinds)}"
    if isinstance(actual, dict):
        dicts = [e for e in examples if isinstance(e, dict)]
        keys = set().union(*dicts)
        assert set(actual) == keys, (
            f"{path}: extra {set(actual) - keys}, missing {keys - set(actual)}"
        )
        for key, value in actual.items():
            assert_shape(value, [d[key] for d in dicts], f"{path}.{key}")
    elif isinstance(actual, list):
        elements = [x for e in examples if isinstance(e, list) for x in e]
        for index, value in enumerate(actual):
            assert_shape(value, elements, f"{path}[{index}]")


@pytest.fixture
def sim() -> UzexSimulator:
    catalogue = UzexCatalogue(
        seed=3, n_auction=25, n_shop=12, n_national=7, n_etender=6, n_active=5
    )
    return UzexSimulator(catalogue)


@pytest.fixture
async def client(aiohttp_client: Any, sim: UzexSimulator) -> Client:
    app = web.Application()
    add_uzex_routes(app, sim)
    result: Client = await aiohttp_client(app)
    return result


async def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=BROWSER)
    assert response.status == 200, await response.text()
    return await response.json()


async def get(client: Client, path: str) -> Any:
    response = await client.get(path, headers=BROWSER)
    assert response.status == 200, await response.text()
    return await response.json()


# --- shapes -------------------------------------------------------------------------------


def test_shape_check_can_fail() -> None:
    fixture = [{"a": 1.0, "b": None, "c": [{"d": "x"}]}]
    assert_shape({"a": 2.0, "b": [1], "c": [{"d": "y"}]}, fixture)
    for wrong in ({"a": 2, "b": 1, "c": []}, {"a": 2.0, "c": []}, {"a": 2.0, "b": 1, "c": [{}]}):
        with pytest.raises(AssertionError):
            assert_shape(wrong, fixture)


@pytest.mark.parametrize(
    ("path", "body", "fixture"),
    [
        ("/auction/Common/GetCompletedDeals", WINDOW, "auction_GetCompletedDeals.capture.json"),
        ("/shop/Common/GetCompletedDeals", {**WINDOW, **SHOP}, "shop_GetCompletedDeals.json"),
        ("/shop/Common/GetCompletedDeals", {**WINDOW, **NATIONAL}, "shop_GetCompletedDeals.json"),
        (
            "/shop/Common/GetNotCompletedDeals",
            {**WINDOW, **SHOP},
            "shop_GetNotCompletedDeals.capture.json",
        ),
        (
            "/etender/api/common/DealsList",
            {"From": 1, "To": 100, "System_Id": 0},
            "etender_DealsList.json",
        ),
    ],
)
async def test_list_rows_have_the_recorded_shape(
    client: Client, path: str, body: dict[str, Any], fixture: str
) -> None:
    rows = await post(client, path, body)

    assert rows
    for row in rows:
        assert_shape(row, load(fixture))


async def test_items_and_reference_lists_have_the_recorded_shape(client: Client) -> None:
    rows = await post(client, "/auction/Common/GetCompletedDeals", WINDOW)
    examples = [
        *load("auction_GetCompletedDealProducts_379514.json"),
        *load("auction_GetCompletedDealProducts_379556.json"),
    ]
    for row in rows[:5]:
        items = await get(client, f"/auction/Common/GetCompletedDealProducts/{row['lot_id']}")
        assert items
        assert_shape(items, [examples])

    categories = await get(client, "/trade/Lib/GetCategories")
    assert_shape(categories, [load("trade_GetCategories.json")])
    regions = await get(client, "/trade/Lib/GetRegions")
    assert_shape(regions, [load("trade_GetRegions.capture.json")])
    assert {r["name"] for r in regions} >= {"город Ташкент", "Ферганская область"}


# --- pagination ---------------------------------------------------------------------------


async def test_windows_are_inclusive_one_based_and_end_empty(
    client: Client, sim: UzexSimulator
) -> None:
    pages = [
        await post(client, "/auction/Common/GetCompletedDeals", {"from": first, "to": first + 9})
        for first in (1, 11, 21, 31)
    ]

    assert [len(page) for page in pages] == [10, 10, 5, 0]
    rns = [row["rn"] for page in pages for row in page]
    assert sorted(rns) == list(range(1, 26))
    assert any([r["rn"] for r in page] != sorted(r["rn"] for r in page) for page in pages[:3])
    assert {row["total_count"] for page in pages for row in page} == {25}
    by_rn = {row["rn"]: row for page in pages for row in page}
    dates = [by_rn[rn]["deal_date"] for rn in range(1, 26)]
    assert dates == sorted(dates, reverse=True)  # newest first
    ids = {row["lot_id"] for row in by_rn.values()}
    assert ids == {
        lot_id
        for lot_id, lot in sim.catalogue.expected_lots("auction").items()
        if lot.status == "completed"
    }
    one = await post(client, "/auction/Common/GetCompletedDeals", {"from": 7, "to": 7})
    assert [row["rn"] for row in one] == [7]


async def test_shop_switches_select_national(client: Client, sim: UzexSimulator) -> None:
    shop = await post(client, "/shop/Common/GetCompletedDeals", {**WINDOW, **SHOP})
    national = await post(client, "/shop/Common/GetCompletedDeals", {**WINDOW, **NATIONAL})

    assert len(shop) == 12 and {r["display_on_shop"] for r in shop} == {1}
    assert len(national) == 7 and {r["display_on_national"] for r in national} == {1}
    assert not {r["lot_id"] for r in shop} & {r["lot_id"] for r in national}


async def test_bad_window_is_400(client: Client) -> None:
    path = "/auction/Common/GetCompletedDeals"
    response = await client.post(path, json={"from": "1", "to": 2}, headers=BROWSER)
    assert response.status == 400
    response = await client.post(path, data=b"{not json", headers=BROWSER)
    assert response.status == 400


# --- upstream behaviours ------------------------------------------------------------------


@pytest.mark.parametrize("user_agent", [None, "python-requests/2.32", "aiohttp/3.9", "curl/8.5"])
async def test_non_browser_user_agent_gets_500(client: Client, user_agent: str | None) -> None:
    if user_agent is None:
        response = await client.post(
            "/shop/Common/GetCompletedDeals", json=WINDOW, skip_auto_headers=["User-Agent"]
        )
    else:
        response = await client.post(
            "/shop/Common/GetCompletedDeals", json=WINDOW, headers={"User-Agent": user_agent}
        )

    assert response.status == 500
    body = await response.json()
    assert body["status"] == 500
    assert "Missing User-Agent header" in body["message"]


async def test_user_agent_gate_can_be_switched_off(client: Client, sim: UzexSimulator) -> None:
    sim.faults = replace(sim.faults, require_browser_ua=False)
    response = await client.get("/trade/Lib/GetRegions", headers={"User-Agent": "python/3.11"})
    assert response.status == 200


async def test_not_valid_blocks_only_the_auction_host(client: Client, sim: UzexSimulator) -> None:
    sim.faults = replace(sim.faults, auction_not_valid=True)

    for path in ("/auction/Common/GetCompletedDeals", "/auction/Common/GetMinimizedLotsList"):
        response = await client.post(path, json=WINDOW, headers=BROWSER)
        assert response.status == 500
        assert "Not Valid" in (await response.json())["message"]
    assert await post(client, "/shop/Common/GetCompletedDeals", {**WINDOW, **SHOP})
    assert await post(client, "/etender/api/common/DealsList", {"From": 1, "To": 5})
    assert sim.requests["auction"] == 2


async def test_removed_and_unknown_lots_are_404(client: Client, sim: UzexSimulator) -> None:
    (row,) = await post(client, "/auction/Common/GetCompletedDeals", {"from": 1, "to": 1})
    lot_id = row["lot_id"]
    sim.faults = replace(sim.faults, removed_lots=frozenset({("auction", lot_id)}))

    for path in (
        f"/auction/Common/GetCompletedDealProducts/{lot_id}",
        "/auction/Common/GetCompletedDealProducts/1",
        "/shop/Common/GetLot/1",
    ):
        assert (await client.get(path, headers=BROWSER)).status == 404


async def test_empty_pages_and_slow_answers(client: Client, sim: UzexSimulator) -> None:
    sim.faults = replace(sim.faults, empty_pages=True, delay_s=0.05)

    started = time.monotonic()
    assert await post(client, "/auction/Common/GetCompletedDeals", WINDOW) == []
    assert time.monotonic() - started >= 0.05


# --- simulated time and the parser round trip ---------------------------------------------


async def test_advance_adds_deals_and_closes_active_lots(
    client: Client, sim: UzexSimulator
) -> None:
    active_before = {
        r["id"] for r in await post(client, "/auction/Common/GetMinimizedLotsList", WINDOW)
    }
    newest_before = await post(client, "/auction/Common/GetCompletedDeals", {"from": 1, "to": 1})

    sim.advance(2)

    deals = await post(client, "/auction/Common/GetCompletedDeals", WINDOW)
    assert {r["total_count"] for r in deals} == {25 + 2 * 3}  # 2 new + 1 closed per tick
    by_rn = {r["rn"]: r for r in deals}
    assert by_rn[7]["lot_id"] == newest_before[0]["lot_id"]  # six newer deals on top
    closed = active_before & {r["lot_id"] for r in deals}
    assert len(closed) == 2
    active_after = {
        r["id"] for r in await post(client, "/auction/Common/GetMinimizedLotsList", WINDOW)
    }
    assert len(active_after) == 5 and not closed & active_after
    expected = sim.catalogue.expected_lots("auction")
    assert {expected[lot_id].status for lot_id in closed} == {"completed"}
    assert by_rn[1]["deal_date"] > newest_before[0]["deal_date"]


async def test_simulated_pages_parse_to_the_expected_catalogue(
    client: Client, sim: UzexSimulator
) -> None:
    sim.advance(1)
    catalogue = sim.catalogue
    Parse = Callable[[LotType, object], parser.PageResult]
    lists: list[tuple[LotType, str, dict[str, int], Parse]] = [
        ("auction", "/auction/Common/GetCompletedDeals", {}, parser.parse_completed_deals),
        ("shop", "/shop/Common/GetCompletedDeals", SHOP, parser.parse_completed_deals),
        ("national", "/shop/Common/GetCompletedDeals", NATIONAL, parser.parse_completed_deals),
        ("etender", "/etender/api/common/DealsList", {}, parser.parse_completed_deals),
        ("auction", "/auction/Common/GetMinimizedLotsList", {}, parser.parse_active_lots),
        ("shop", "/shop/Common/GetNotCompletedDeals", SHOP, parser.parse_active_lots),
        ("national", "/shop/Common/GetNotCompletedDeals", NATIONAL, parser.parse_active_lots),
    ]
    lots: dict[tuple[str, int], LotRecord] = {}
    items: dict[tuple[str, int, int], LotItemRecord] = {}
    for lot_type, path, switches, parse in lists:
        result = parse(lot_type, await post(client, path, {**WINDOW, **switches}))
        assert result.failures == []
        lots.update(((lot.lot_type, lot.lot_id), lot) for lot in result.lots)
        items.update(((i.lot_type, i.lot_id, i.line_no), i) for i in result.items)
    for lot in list(lots.values()):
        lot_id = lot.lot_id
        if lot.lot_type == "auction" and lot.status == "completed":
            data = await get(client, f"/auction/Common/GetCompletedDealProducts/{lot_id}")
            found = parser.parse_deal_products("auction", lot_id, data)
        elif lot.lot_type == "auction":
            detail = parser.parse_lot_detail(
                "auction", await get(client, f"/auction/Common/GetLot/{lot_id}")
            )
            assert detail.lots[0].customer_inn is not None
            found = detail.items
        elif lot.lot_type == "etender":
            data = await get(client, f"/etender/api/common/GetTrade/{lot_id}/0")
            found = parser.parse_etender_trade(lot_id, data)
        else:
            continue
        items.update(((i.lot_type, i.lot_id, i.line_no), i) for i in found)

    for lot_type in LOT_TYPES:
        expected = catalogue.expected_lots(lot_type)
        stored = {lot_id: lot for (t, lot_id), lot in lots.items() if t == lot_type}
        assert set(stored) == set(expected), lot_type
        for lot_id, want in expected.items():
            got = stored[lot_id]
            assert (got.status, got.deal_id, got.deal_cost) == (
                want.status,
                want.deal_id,
                want.deal_cost,
            )
            assert got.provider_inn == want.provider_inn
        want_items = catalogue.expected_items(lot_type)
        got_items = {(i.lot_id, i.line_no): i for (t, *_), i in items.items() if t == lot_type}
        assert set(got_items) == set(want_items), lot_type
        for key, want_item in want_items.items():
            got_item = got_items[key]
            assert (got_item.quantity, got_item.unit, got_item.unit_price, got_item.cost) == (
                want_item.quantity,
                want_item.unit,
                want_item.unit_price,
                want_item.cost,
            ), key


def test_catalogue_is_deterministic() -> None:
    def snapshot(seed: int) -> list[Any]:
        catalogue = UzexCatalogue(
            seed=seed, n_auction=8, n_shop=3, n_national=2, n_etender=2, n_active=3
        )
        catalogue.advance(3)
        return [catalogue.page(t, "completed", 1, 50) for t in ("auction", "shop", "etender")]

    assert snapshot(5) == snapshot(5)
    assert snapshot(5) != snapshot(6)


async def test_simulator_is_stored_on_the_app(sim: UzexSimulator) -> None:
    app = web.Application()
    add_uzex_routes(app, sim)
    assert app[UZEX_SIMULATOR] is sim
