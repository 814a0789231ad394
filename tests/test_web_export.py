"""Every list's export twins — `.csv`, `.semicolon.csv` and `.xlsx` — through the real handlers
against this module's copy of the seeded dashboard database; XLSX files are read back with
openpyxl to check what type each cell has."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.export import XLSX_TYPE
from tests.helpers.web import ClientFactory, page

TASHKENT = ZoneInfo("Asia/Tashkent")
#: a provider identified by a 14-digit PINFL (a person), which a float would round
PINFL = "31234567890123"
#: every list page of the dashboard (with a query where the list needs one)
LISTS = [
    "/products",
    "/sellers",
    "/analytics/price-drops",
    "/analytics/top-sellers",
    "/analytics/compare?q=redmi",
    "/analytics/categories",
    "/uzex/lots",
    "/status/dead-letters",
    "/status/job-runs",
    "/alerts",
]


@pytest.fixture
async def export_db(web_db: DatabaseConfig) -> DatabaseConfig:
    conn = await db.connect(web_db)
    try:
        await conn.execute(
            "INSERT INTO uzex_lots (lot_type, lot_id, display_no, status, start_date, deal_date, "
            "start_cost, deal_cost, currency, provider_inn, provider_name, customer_inn) VALUES "
            "('shop', 56, '00012', 'completed', now() - interval '4 days', "
            "now() - interval '3 days', 10.00, 9.99, 'UZS', $1, 'YaTT Karimov', '201234567') "
            "ON CONFLICT DO NOTHING",
            PINFL,
        )
        await conn.execute(
            "INSERT INTO products (id, title, category_id, seller_id) "
            "VALUES (1090, 'Bell\x07 and tab\there', 20, 100) ON CONFLICT DO NOTHING"
        )
    finally:
        await conn.close()
    return web_db


async def _sheet(client: TestClient, url: str) -> list[list[Any]]:
    resp = await client.get(url)
    body = await resp.read()
    assert resp.status == 200, body[:300]
    assert resp.headers["Content-Type"] == XLSX_TYPE
    assert resp.headers["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [list(row) for row in book.active.iter_rows()]


def _by_header(sheet: list[list[Any]]) -> list[dict[str, Any]]:
    header = [c.value for c in sheet[0]]
    return [{h: c for h, c in zip(header, row, strict=True)} for row in sheet[1:]]


async def test_products_xlsx_types_ids_as_text_money_as_numbers_and_guards_formulas(
    export_db: DatabaseConfig, make_client: ClientFactory
) -> None:
    client, _ = await make_client()
    rows = {r["ID"].value: r for r in _by_header(await _sheet(client, "/products.xlsx"))}
    redmi = rows["1001"]  # the id is text: no thousands separator, no float
    assert redmi["ID"].data_type == "s"
    assert redmi["Price, so'm"].value == 1_500_000 and redmi["Price, so'm"].data_type == "n"
    assert redmi["Rating"].value == pytest.approx(4.7) and redmi["Orders"].value == 300
    assert redmi["Title"].value == "Смартфон Redmi 12 128 ГБ"
    hostile = rows["1004"]["Title"]
    # stored as the text it is, with Excel's quote prefix: never evaluated, stays text if edited
    assert hostile.value == '=HYPERLINK("http://evil") Кабель' and hostile.data_type == "s"
    assert hostile.quotePrefix and not redmi["Title"].quotePrefix
    # XML cannot carry a bell; the cell still arrives and the rest of the file is intact
    assert rows["1090"]["Title"].value.startswith("Bell") and "tab" in rows["1090"]["Title"].value


async def test_uzex_xlsx_keeps_inn_pinfl_and_lot_numbers_as_text_and_dates_as_dates(
    export_db: DatabaseConfig, make_client: ClientFactory
) -> None:
    client, _ = await make_client()
    rows = _by_header(await _sheet(client, "/uzex/lots.xlsx?type=shop"))
    lot = next(r for r in rows if r["Lot"].value == "56")
    assert lot["Provider INN"].value == PINFL and lot["Customer INN"].value == "201234567"
    assert lot["Number"].value == "00012"  # leading zeros survive
    assert lot["Deal cost"].value == pytest.approx(9.99) and lot["Deal cost"].data_type == "n"
    when = lot["Date"].value
    assert isinstance(when, datetime) and lot["Date"].is_date
    conn = await db.connect(export_db)
    try:
        deal = await conn.fetchval("SELECT deal_date FROM uzex_lots WHERE lot_id = 56")
    finally:
        await conn.close()
    # Excel has no time zones: the wall-clock time of [web] timezone, to the second
    local = deal.astimezone(TASHKENT).replace(tzinfo=None)
    assert abs((when - local).total_seconds()) < 1


async def test_semicolon_csv_is_for_ru_uz_excel(
    export_db: DatabaseConfig, make_client: ClientFactory
) -> None:
    client, _ = await make_client()
    resp = await client.get("/uzex/lots.semicolon.csv?type=auction")
    raw = await resp.read()
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert raw.startswith(b"\xef\xbb\xbf") and resp.headers["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, data = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert "Deal cost" in header
    lot = next(r for r in data if r["Lot"] == "379556")
    assert lot["Deal cost"] == "1019000,50" and lot["Start cost"] == "1200000,00"
    conn = await db.connect(export_db)
    try:
        deal = await conn.fetchval("SELECT deal_date FROM uzex_lots WHERE lot_id = 379556")
    finally:
        await conn.close()
    assert lot["Date"] == deal.astimezone(TASHKENT).strftime("%Y-%m-%d %H:%M:%S")
    products = (await (await client.get("/products.semicolon.csv")).read()).decode("utf-8-sig")
    by_id = {r[0]: r for r in csv.reader(io.StringIO(products), delimiter=";")}
    assert by_id["1004"][1] == '\'=HYPERLINK("http://evil") Кабель'  # the same formula guard
    assert by_id["1001"][5] == "4,7"  # rating with a decimal comma, float4 noise dropped
    # the comma CSV is unchanged: dot decimals, ISO times with their offset
    plain = (await (await client.get("/uzex/lots.csv?type=auction")).read()).decode("utf-8-sig")
    assert "1019000.50" in plain and "+00:00" in plain


@pytest.mark.parametrize("url", LISTS)
async def test_every_list_has_all_three_twins_linked_from_its_page(
    export_db: DatabaseConfig, make_client: ClientFactory, url: str
) -> None:
    client, _ = await make_client()
    html = await page(client, url)
    path, _, query = url.partition("?")
    for suffix in (".csv", ".semicolon.csv", ".xlsx"):
        twin = path + suffix + ("?" + query if query else "")
        assert f'href="{twin.replace("&", "&amp;")}' in html or f'href="{path}{suffix}' in html, (
            url,
            suffix,
        )
        resp = await client.get(twin)
        assert resp.status == 200, (twin, await resp.text())
        await resp.read()
    sheet = await _sheet(client, path + ".xlsx" + ("?" + query if query else ""))
    csv_body = await (await client.get(path + ".csv" + ("?" + query if query else ""))).read()
    csv_rows = list(csv.reader(io.StringIO(csv_body.decode("utf-8-sig"))))
    assert [c.value for c in sheet[0]] == csv_rows[0]  # same columns
    assert len(sheet) == len(csv_rows)  # same rows


async def test_xlsx_of_a_list_page_is_exactly_that_page(
    export_db: DatabaseConfig, make_client: ClientFactory
) -> None:
    client, _ = await make_client()
    first = _by_header(await _sheet(client, "/products.xlsx?limit=2"))
    assert [r["ID"].value for r in first] == ["1001", "1002"]
    cost = Decimal("1019000.50")
    rows = _by_header(await _sheet(client, "/uzex/lots.xlsx?type=auction"))
    assert float(cost) in [r["Deal cost"].value for r in rows]
