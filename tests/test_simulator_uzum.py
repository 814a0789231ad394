"""The Uzum simulator: recorded shapes, determinism, simulated time, faults and control routes."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from marketplaced.simulator.faults import DEEPNEST_LEVELS, FAULT_KINDS, MISSING_FORMS, FaultProfile
from marketplaced.simulator.uzum import (
    MAX_PRICE,
    MIN_PRICE,
    UZUM_SIMULATOR,
    ExpectedProduct,
    UzumCatalogue,
    UzumSimulator,
    build_uzum_app,
    round_orders,
)
from tests.helpers import recorded

Client = TestClient[web.Request, web.Application]

SEED = 2024
N_IDS = 5_000


def uzum_fixture(name: str) -> Any:
    return json.loads((recorded.UZUM / name).read_text(encoding="utf-8"))


FIXTURE_NAMES = ("product_1772350.json", "product_2114919.json")
#: nullable per docs/upstreams.md although both recordings happen to carry a value ("topFeedback
#: object|null"; a category's "parent: <same shape> | null" ends chains of any depth)
DOCUMENTED_NULLABLE = {"$.payload.data.topFeedback"}
DOCUMENTED_NULLABLE_SUFFIX = ".parent"


@pytest.fixture(scope="module")
def catalogue() -> UzumCatalogue:
    return UzumCatalogue(SEED, N_IDS)


@pytest.fixture
def sim(catalogue: UzumCatalogue) -> UzumSimulator:
    return UzumSimulator(catalogue)


@pytest.fixture
async def client(aiohttp_client: Any, sim: UzumSimulator) -> Client:
    result: Client = await aiohttp_client(build_uzum_app(sim))
    return result


def existing(catalogue: UzumCatalogue, count: int, start: int = 1) -> list[int]:
    ids: list[int] = []
    pid = start
    while len(ids) < count:
        if catalogue.exists(pid):
            ids.append(pid)
        pid += 1
    return ids


def missing(catalogue: UzumCatalogue, count: int) -> list[int]:
    return [pid for pid in range(1, N_IDS) if not catalogue.exists(pid)][:count]


# --- shapes -------------------------------------------------------------------------------


def kind(value: object) -> str:
    return "null" if value is None else type(value).__name__  # bool, int, float distinct


def null_paths(doc: Any, path: str = "$", out: set[str] | None = None) -> set[str]:
    """Paths (lists as `[]`) where a recorded payload holds null."""
    out = set() if out is None else out
    if doc is None:
        out.add(path)
    elif isinstance(doc, dict):
        for key, value in doc.items():
            null_paths(value, f"{path}.{key}", out)
    elif isinstance(doc, list):
        for value in doc:
            null_paths(value, f"{path}[]", out)
    return out


def assert_same_shape(actual: Any, fixture: Any, nullable: set[str], path: str = "$") -> None:
    """Same keys and JSON types as the fixture, all the way down. A null in the fixture accepts
    anything; a null in `actual` is fine where some recording has null; lists compare every
    element with the fixture's first; `rating` may be int or float."""
    if fixture is None:
        return
    if actual is None:
        documented = path.endswith(DOCUMENTED_NULLABLE_SUFFIX)
        assert documented or path in nullable, f"{path}: null, fixture has {kind(fixture)}"
        return
    if isinstance(fixture, dict):
        assert isinstance(actual, dict), f"{path}: {kind(actual)}, fixture has an object"
        extra, absent = set(actual) - set(fixture), set(fixture) - set(actual)
        assert not extra and not absent, f"{path}: extra keys {extra}, missing keys {absent}"
        for key, value in fixture.items():
            assert_same_shape(actual[key], value, nullable, f"{path}.{key}")
    elif isinstance(fixture, list):
        assert isinstance(actual, list), f"{path}: {kind(actual)}, fixture has a list"
        for item in actual if fixture else ():
            assert_same_shape(item, fixture[0], nullable, f"{path}[]")
    elif path.endswith(".rating") and kind(fixture) in ("int", "float"):
        assert kind(actual) in ("int", "float"), f"{path}: {kind(actual)} is not a number"
    else:
        assert kind(actual) == kind(fixture), f"{path}: {kind(actual)}, fixture has {kind(fixture)}"


def test_shape_check_can_fail() -> None:
    fixture = {"a": 1, "b": None, "c": [{"d": "x"}], "e": "s", "rating": 4.5}
    ok = {"a": 2, "b": [1], "c": [{"d": "y"}], "e": None, "rating": 5}
    assert_same_shape(ok, fixture, {"$.e"})
    wrong = (
        {**ok, "a": 2.0},
        {**ok, "extra": 1},
        {"a": 2, "b": 1, "c": [], "e": "s"},
        {**ok, "c": [{"d": 1}]},
        {**ok, "e": None},
        {**ok, "rating": "5"},
    )
    for case in wrong:
        with pytest.raises(AssertionError):
            assert_same_shape(case, fixture, set())


def sample_ids(catalogue: UzumCatalogue) -> list[int]:
    """A few ordinary cards plus the extremes: a big SKU matrix and single-SKU cards."""
    ids = existing(catalogue, 3000)
    big = max(ids, key=catalogue.sku_count)
    singles = [pid for pid in ids if catalogue.sku_count(pid) == 1]
    labels = {pid: sku_labels(catalogue, pid) for pid in singles}
    bare = next(pid for pid in singles if labels[pid] == [""])
    labelled = next(pid for pid in singles if labels[pid] != [""])
    return [big, bare, labelled, *ids[:12]]


def sku_labels(catalogue: UzumCatalogue, pid: int) -> list[str]:
    exp = catalogue.expected(pid, 0)
    assert exp is not None
    return [sku.characteristics for sku in exp.skus]


def test_products_have_the_recorded_shape_all_the_way_down(catalogue: UzumCatalogue) -> None:
    fixtures = [uzum_fixture(name) for name in FIXTURE_NAMES]
    nullable = set().union(DOCUMENTED_NULLABLE, *(null_paths(f) for f in fixtures))
    ids = sample_ids(catalogue)
    assert catalogue.sku_count(ids[0]) >= 50
    assert catalogue.sku_count(ids[1]) == catalogue.sku_count(ids[2]) == 1

    for pid in ids:
        payload = catalogue.product_payload(pid, tick=5)
        assert payload is not None
        for fixture in fixtures:
            assert_same_shape(payload, fixture, nullable)


def test_product_content_is_consistent(catalogue: UzumCatalogue) -> None:
    for pid in sample_ids(catalogue):
        payload = catalogue.product_payload(pid, tick=3)
        assert payload is not None
        data, seo = payload["payload"]["data"], payload["payload"]["seo"]
        skus = data["skuList"]
        assert data["id"] == pid
        assert data["title"] == data["localizableTitle"]["uz"] == seo["uzTitle"]
        assert seo["skuList"] == skus and seo["photos"] == data["photos"]
        assert data["totalAvailableAmount"] == sum(s["availableAmount"] for s in skus)
        assert data["rOrdersAmount"] == round_orders(data["ordersAmount"]) <= data["ordersAmount"]
        assert data["description"].startswith("<p>")
        assert 1 <= len(skus) <= 100
        assert len({s["id"] for s in skus}) == len(skus)
        chars = data["characteristics"]
        for sku in skus:
            assert MIN_PRICE <= sku["purchasePrice"] <= sku["fullPrice"] <= MAX_PRICE
            assert sku["vat"]["price"] == sku["purchasePrice"]
            assert sku["stock"]["type"] in ("FBO", "FBS", "DBS")
            assert [r["charIndex"] for r in sku["characteristics"]] == list(range(len(chars)))
            for ref in sku["characteristics"]:
                assert ref["valueIndex"] < len(chars[ref["charIndex"]]["values"])
        for char in chars:
            if char["titleType"] == "COLOR":
                assert all(v["value"].startswith("#") for v in char["values"])
        node = data["category"]
        while node["parent"] is not None:
            node = node["parent"]
        assert node["id"] in {top["id"] for top in catalogue.root_categories_payload()["payload"]}


def test_expected_summary_matches_the_payload(catalogue: UzumCatalogue) -> None:
    for pid in sample_ids(catalogue)[:6]:
        payload = catalogue.product_payload(pid, tick=7)
        exp = catalogue.expected(pid, tick=7)
        assert payload is not None and isinstance(exp, ExpectedProduct)
        data = payload["payload"]["data"]
        assert (exp.id, exp.title, exp.title_ru) == (
            pid,
            data["title"],
            data["localizableTitle"]["ru"],
        )
        assert exp.category_id == data["category"]["id"] == exp.categories[-1].id
        assert exp.categories[0].parent_id is None
        for parent, child in zip(exp.categories, exp.categories[1:], strict=False):
            assert child.parent_id == parent.id
        assert (exp.seller_id, exp.orders, exp.reviews, exp.rating, exp.total_available) == (
            data["seller"]["id"],
            data["ordersAmount"],
            data["reviewsAmount"],
            data["rating"],
            data["totalAvailableAmount"],
        )
        chars = data["characteristics"]
        by_id = {s["id"]: s for s in data["skuList"]}
        for sku in exp.skus:
            raw = by_id[sku.id]
            assert (sku.purchase_price, sku.full_price, sku.available_amount) == (
                raw["purchasePrice"],
                raw["fullPrice"],
                raw["availableAmount"],
            )
            decoded = ", ".join(
                f"{chars[r['charIndex']]['title']}: "
                f"{chars[r['charIndex']]['values'][r['valueIndex']]['title']}"
                for r in raw["characteristics"]
            )
            assert sku.characteristics == decoded
    assert catalogue.expected(missing(catalogue, 1)[0], 0) is None


def test_root_category_and_shop_payloads(catalogue: UzumCatalogue) -> None:
    roots = catalogue.root_categories_payload()["payload"]
    titles = {top["id"]: top["title"] for top in roots}
    assert titles[10020] == "Elektronika" and len(roots) >= 15

    def walk(node: dict[str, Any], path: list[int]) -> None:
        assert set(node) == {"id", "title", "productAmount", "adult", "eco", "children", "path"}
        assert node["path"] == [*path, node["id"]]
        for child in node["children"]:
            walk(child, node["path"])

    for top in roots:
        walk(top, [])
        assert 2 <= max_depth(top) <= 3
    exp = catalogue.expected(existing(catalogue, 1)[0], 0)
    assert exp is not None
    shop = catalogue.shop_payload(exp.seller_link, 0)
    assert shop is not None
    seller = shop["payload"]
    owned = sum(
        1
        for pid in range(1, N_IDS + 1)
        if (e := catalogue.expected(pid, 0)) and e.seller_id == seller["id"]
    )
    assert seller["totalProducts"] == owned > 0
    assert catalogue.shop_payload("no-such-shop", 0) is None


def max_depth(node: dict[str, Any]) -> int:
    return 0 if not node["children"] else 1 + max(max_depth(c) for c in node["children"])


# --- determinism and hit rate -------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_catalogue() -> None:
    one, two, other = UzumCatalogue(5, 3000), UzumCatalogue(5, 3000), UzumCatalogue(6, 3000)
    for pid in range(1, 200):
        assert one.product_bytes(pid, 9) == two.product_bytes(pid, 9)
    assert [one.exists(p) for p in range(1, 500)] != [other.exists(p) for p in range(1, 500)]
    both = [p for p in range(1, 500) if one.exists(p) and other.exists(p)]
    assert all(one.product_bytes(p, 0) != other.product_bytes(p, 0) for p in both)


def test_any_id_is_computed_alone() -> None:
    late = UzumCatalogue(5, 3000)
    assert late.product_bytes(2999, 4) == UzumCatalogue(5, 3000).product_bytes(2999, 4)


def test_hit_rate_and_frontier() -> None:
    catalogue = UzumCatalogue(77, 10_000)
    hits = sum(catalogue.exists(pid) for pid in range(1, 10_001))
    assert 0.65 <= hits / 10_000 <= 0.75
    half = UzumCatalogue(77, 10_000, hit_rate=0.5)
    assert 0.45 <= sum(half.exists(p) for p in range(1, 10_001)) / 10_000 <= 0.55
    top = catalogue.highest_id
    assert catalogue.exists(top) and not any(catalogue.exists(p) for p in range(top + 1, 10_100))
    assert not catalogue.exists(0) and catalogue.product_payload(10_001, 0) is None


# --- simulated time -------------------------------------------------------------------------


def test_time_grows_orders_and_moves_prices_and_stock(catalogue: UzumCatalogue) -> None:
    ids = existing(catalogue, 60)
    changed = unchanged = restocked = sold = 0
    for pid in ids:
        previous = catalogue.expected(pid, 0)
        assert previous is not None
        for tick in range(1, 60):
            now = catalogue.expected(pid, tick)
            assert now is not None
            assert now.orders >= previous.orders and now.reviews >= previous.reviews
            assert now.r_orders == round_orders(now.orders)
            assert 0.0 <= now.rating <= 5.0
            if previous.reviews:  # no reviews: rating 0; afterwards it only drifts
                assert abs(now.rating - previous.rating) <= 0.2 + 1e-9
            assert now.total_available == sum(s.available_amount for s in now.skus)
            for before, after in zip(previous.skus, now.skus, strict=True):
                assert after.purchase_price <= after.full_price
                if after.purchase_price != before.purchase_price:
                    changed += 1
                else:
                    unchanged += 1
                restocked += after.available_amount > before.available_amount
                sold += after.available_amount < before.available_amount
            previous = now
        first = catalogue.expected(pid, 0)
        assert first is not None and previous.orders > first.orders  # everything sells in 60 h
    share = changed / (changed + unchanged)
    assert 0.03 < share < 0.25, share  # ≈ 10 % of SKU-ticks reprice
    assert restocked > 0 and sold > 0


def test_payload_at_a_tick_is_a_pure_function(catalogue: UzumCatalogue) -> None:
    pid = existing(catalogue, 1, start=123)[0]
    assert catalogue.product_bytes(pid, 40) == UzumCatalogue(SEED, N_IDS).product_bytes(pid, 40)


# --- HTTP routes ----------------------------------------------------------------------------


async def test_routes_serve_products_categories_and_shops(
    client: Client, catalogue: UzumCatalogue
) -> None:
    pid = existing(catalogue, 1)[0]
    response = await client.get(f"/api/v2/product/{pid}")
    assert response.status == 200 and response.content_type == "application/json"
    assert await response.read() == catalogue.product_bytes(pid, 0)

    roots = await client.get("/api/main/root-categories", params={"eco": "false"})
    assert (await roots.json())["payload"][0]["id"] == 10020

    one = await client.get("/api/category/v2/10044")
    assert (await one.json())["payload"]["category"]["title"] == "Smartfonlar va telefonlar"
    assert (await client.get("/api/category/v2/1")).status == 404

    exp = catalogue.expected(pid, 0)
    assert exp is not None
    shop = await client.get(f"/api/shop/{exp.seller_link}")
    assert (await shop.json())["payload"]["id"] == exp.seller_id
    assert (await client.get("/api/shop/nobody")).status == 404


@pytest.mark.parametrize(
    "path",
    ["/api/v2/product/abc", "/api/v2/product/-5", "/api/v2/product/1.5", "/api/category/v2/x"],
)
async def test_non_integer_ids_are_bad_requests(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 400
    assert "integer" in (await response.json())["message"]


async def test_control_endpoints(
    client: Client, sim: UzumSimulator, catalogue: UzumCatalogue
) -> None:
    assert client.app[UZUM_SIMULATOR] is sim
    pid = existing(catalogue, 1)[0]
    before = json.loads(await (await client.get(f"/api/v2/product/{pid}")).read())
    advanced = await client.post("/__sim/advance", params={"ticks": "48"})
    assert (await advanced.json()) == {"tick": 48} and sim.tick == 48
    after = json.loads(await (await client.get(f"/api/v2/product/{pid}")).read())
    assert after["payload"]["data"]["ordersAmount"] > before["payload"]["data"]["ordersAmount"]
    assert (await client.post("/__sim/advance", params={"ticks": "-1"})).status == 400

    switched = await client.post("/__sim/faults", data="503@1-10000")
    assert (await switched.json()) == {"profile": "503@1-10000"}
    assert (await client.get(f"/api/v2/product/{pid}")).status == 503
    bad = await client.post("/__sim/faults", params={"spec": "503@9-1"})
    assert bad.status == 400 and "503@9-1" in (await bad.json())["message"]

    stats = await (await client.get("/__sim/stats")).json()
    assert stats["tick"] == 48
    assert stats["requests"]["product"] == 3
    assert stats["faults"]["injected"] == {"503": 1}
    assert stats["catalogue"]["highest_id"] == catalogue.highest_id


def test_auto_advance_follows_the_clock(catalogue: UzumCatalogue) -> None:
    now = [1000.0]
    sim = UzumSimulator(catalogue, tick=3, tick_seconds=10.0, clock=lambda: now[0])
    assert sim.tick == 3
    now[0] += 25.0
    assert sim.tick == 5
    assert sim.advance(2) == 7


# --- faults ---------------------------------------------------------------------------------


async def fetch(client: Client, pid: int) -> tuple[int, str, bytes, Any]:
    response = await client.get(f"/api/v2/product/{pid}")
    return response.status, response.content_type, await response.read(), response.headers


async def test_every_fault_kind_through_a_real_client(
    client: Client, sim: UzumSimulator, catalogue: UzumCatalogue
) -> None:
    ids = existing(catalogue, len(FAULT_KINDS))
    rules = ";".join(f"{kind}@{pid}" for kind, pid in zip(FAULT_KINDS, ids, strict=True))
    sim.faults = FaultProfile.parse(rules + ";slow_s=0.05")
    at: dict[str, int] = dict(zip(FAULT_KINDS, ids, strict=True))

    for kind, status in (("429", 429), ("403", 403), ("500", 500), ("502", 502), ("503", 503)):
        assert (await fetch(client, at[kind]))[0] == status, kind
    assert (await fetch(client, at["429"]))[3]["Retry-After"] == "1"
    assert "Retry-After" not in (await fetch(client, at["429noretry"]))[3]
    assert (await fetch(client, at["429noretry"]))[0] == 429

    started = time.monotonic()
    status, _, body, _ = await fetch(client, at["slow"])
    assert time.monotonic() - started >= 0.05 and status == 200 and json.loads(body)

    with pytest.raises(aiohttp.ClientConnectionError):
        await client.get(f"/api/v2/product/{at['reset']}")

    status, ctype, body, _ = await fetch(client, at["truncated"])
    whole = catalogue.product_bytes(at["truncated"], 0)
    assert whole is not None
    assert (status, ctype) == (200, "application/json") and whole.startswith(body)
    assert 0 < len(body) < len(whole)
    with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError or UnicodeDecodeError
        json.loads(body)

    status, ctype, body, _ = await fetch(client, at["html"])
    assert (status, ctype) == (200, "text/html") and b"<html" in body

    assert (await fetch(client, at["empty"]))[:3] == (200, "application/json", b"")

    status, ctype, body, _ = await fetch(client, at["ctrlchars"])
    assert (status, ctype) == (200, "application/json")
    with pytest.raises(json.JSONDecodeError, match="Invalid control character"):
        json.loads(body)
    lenient = json.loads(body, strict=False)
    assert "\x01\x0b\x1f" in lenient["payload"]["data"]["description"]
    assert lenient["payload"]["data"]["id"] == at["ctrlchars"]

    status, ctype, body, _ = await fetch(client, at["badshape"])
    assert (status, ctype) == (200, "application/json")
    assert json.loads(body)["payload"]["data"]["skuList"] == "oops"  # valid JSON, wrong shape

    status, _, body, _ = await fetch(client, at["deepnest"])
    assert status == 200 and body.count(b'{"parent":') == DEEPNEST_LEVELS
    with pytest.raises(RecursionError):
        json.loads(body)

    healthy = json.loads(catalogue.product_bytes(at["negprice"], 0) or b"")
    status, _, body, _ = await fetch(client, at["negprice"])
    sku = json.loads(body)["payload"]["data"]["skuList"][0]
    assert status == 200 and sku["fullPrice"] == -5
    assert sku["purchasePrice"] == healthy["payload"]["data"]["skuList"][0]["purchasePrice"]
    status, _, body, _ = await fetch(client, at["strprice"])
    price = json.loads(body)["payload"]["data"]["skuList"][0]["purchasePrice"]
    assert status == 200 and isinstance(price, str) and price.isdigit()

    assert set(sim.injector.injected) == set(FAULT_KINDS)


async def test_range_faults_with_a_count_heal(
    client: Client, sim: UzumSimulator, catalogue: UzumCatalogue
) -> None:
    sim.faults = FaultProfile.parse("500@10-20*2")
    pid, other = existing(catalogue, 2, start=10)
    assert [(await fetch(client, pid))[0] for _ in range(4)] == [500, 500, 200, 200]
    assert (await fetch(client, other))[0] == 500  # counted per id
    outside = existing(catalogue, 1, start=21)[0]
    assert (await fetch(client, outside))[0] == 200
    assert sim.injector.requests_by_faulted_key[pid] == 4
    assert outside not in sim.injector.requests_by_faulted_key


async def test_reset_once_then_the_retry_gets_through(
    client: Client, sim: UzumSimulator, catalogue: UzumCatalogue
) -> None:
    sim.faults = FaultProfile.parse("reset@1-100*1")
    pid = existing(catalogue, 1)[0]
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.get(f"/api/v2/product/{pid}")
    assert (await fetch(client, pid))[0] == 200
    assert sim.injector.injected["reset"] == 1 and sim.requests["product"] == 2


def test_random_faults_are_repeatable_and_retries_can_succeed(catalogue: UzumCatalogue) -> None:
    profile = FaultProfile.parse("500=0.3,seed=4")
    first, second = UzumSimulator(catalogue, profile), UzumSimulator(catalogue, profile)
    ids = range(1, 2001)
    faulted = [pid for pid in ids if first.injector.decide(pid)]
    assert 0.25 < len(faulted) / len(ids) < 0.35
    assert faulted == [pid for pid in reversed(ids) if second.injector.decide(pid)][::-1]
    retried = [pid for pid in faulted if first.injector.decide(pid) is None]
    assert 0.6 < len(retried) / len(faulted) < 0.8
    assert len(first.injector.requests_by_faulted_key) == len(faulted)  # memory: faulted only


async def test_every_missing_form_is_reachable(
    client: Client, sim: UzumSimulator, catalogue: UzumCatalogue
) -> None:
    forms: dict[str, int] = {}
    counts: Counter[str] = Counter()
    for pid in missing(catalogue, 1000):
        form = sim.injector.missing_form(pid)
        forms.setdefault(form, pid)
        counts[form] += 1
    assert set(forms) == set(MISSING_FORMS)
    assert counts["404"] == max(counts.values())

    status, ctype, body, _ = await fetch(client, forms["404"])
    assert (status, ctype) == (404, "application/json") and json.loads(body)["status"] == 404
    assert (await fetch(client, forms["empty"]))[:3] == (200, "application/json", b"")
    decoded = {
        form: json.loads((await fetch(client, forms[form]))[2])
        for form in MISSING_FORMS
        if form not in ("404", "empty")
    }
    assert decoded["payload_null"] == {"payload": None}
    assert decoded["data_null"] == {"payload": {"data": None}}
    no_title = decoded["no_title"]["payload"]["data"]
    assert no_title["id"] == forms["no_title"] and "title" not in no_title
    assert decoded["errors_key"]["payload"] is None and decoded["errors_key"]["errors"]
    assert sum(sim.missing.values()) == len(MISSING_FORMS)

    sim.faults = FaultProfile.parse("missing=empty:1")
    beyond = catalogue.n_ids + 10  # past the frontier every id is a miss
    assert (await fetch(client, beyond))[:3] == (200, "application/json", b"")


@pytest.mark.parametrize("kind", ["negprice", "strprice"])
async def test_price_faults_on_a_missing_id_answer_its_miss(
    client: Client, sim: UzumSimulator, catalogue: UzumCatalogue, kind: str
) -> None:
    """A price fault has nothing to corrupt where no product is: the miss passes unchanged
    (an empty body, or one whose shape has no SKUs), never a simulator error."""
    beyond = catalogue.n_ids + 10
    sim.faults = FaultProfile.parse(f"{kind}@{beyond};missing=empty:1")
    assert (await fetch(client, beyond))[:3] == (200, "application/json", b"")
    sim.faults = FaultProfile.parse(f"{kind}@{beyond};missing=payload_null:1")
    status, _, body, _ = await fetch(client, beyond)
    assert status == 200 and json.loads(body) == {"payload": None}


# --- profiles -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["none", "mild", "hostile"])
def test_presets_parse_and_round_trip(name: str) -> None:
    profile = FaultProfile.parse(name)
    assert profile == FaultProfile.preset(name)
    assert FaultProfile.parse(profile.spec()) == profile
    assert (name == "none") == (not profile.rates)


def test_parse_reads_rates_rules_and_options() -> None:
    profile = FaultProfile.parse(
        " 429=0.02, 500=0.01,slow=0.001 ;html@100-120;reset@200-210*1;ctrlchars@7;slow_s=0.5,"
        "seed=9,missing=404:3/errors_key:1"
    )
    assert profile.rate("429") == 0.02 and profile.rate("slow") == 0.001
    assert [r.spec() for r in profile.rules] == ["html@100-120", "reset@200-210*1", "ctrlchars@7"]
    assert (profile.slow_s, profile.seed) == (0.5, 9)
    assert profile.missing_mix == (("404", 3.0), ("errors_key", 1.0))
    assert FaultProfile.parse(profile.spec()) == profile


@pytest.mark.parametrize(
    ("spec", "token"),
    [
        ("429=2", "429=2"),
        ("500=0.1,bogus=0.1", "bogus=0.1"),
        ("html@5-2", "html@5-2"),
        ("reset@1-5*0", "reset@1-5*0"),
        ("500=abc", "500=abc"),
        ("500", "500"),
        ("html@x-y", "html@x-y"),
        ("teapot@1-2", "teapot@1-2"),
        ("missing=nope:1", "missing=nope:1"),
        ("slow_s=-1", "slow_s=-1"),
        ("brutal", "brutal"),
    ],
)
def test_bad_specs_name_the_bad_token(spec: str, token: str) -> None:
    with pytest.raises(ValueError, match="bad fault spec token") as caught:
        FaultProfile.parse(spec)
    assert repr(token) in str(caught.value)


def test_probabilities_adding_up_past_one_are_rejected() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        FaultProfile.parse("429=0.6,500=0.6")
    with pytest.raises(ValueError, match="unknown fault preset"):
        FaultProfile.preset("brutal")
