"""CSV exports neutralise every cell a spreadsheet could read as a formula.

Product titles come from strangers: the rows here are inserted into this module's copy of the
page tests' seeded database and exported through the real `/products.csv` handler."""

from __future__ import annotations

import csv
import io

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.listing import cell
from tests.helpers.web import ClientFactory

#: product id → title that some spreadsheet evaluates (or could, after trimming/folding)
HOSTILE = {
    2001: ' =HYPERLINK("http://evil")',
    2002: '\n=HYPERLINK("http://evil")',
    2003: '\uff1dHYPERLINK("http://evil")',  # full-width equals sign
    2004: "\uff0b1+cmd|' /C calc'!A0",  # full-width plus
    2005: "\uff0d2+3",  # full-width hyphen-minus
    2006: "\uff20SUM(A1)",  # full-width commercial at
    2007: "\u00a0=1+1",  # no-break space
    2008: "\u200b=1+1",  # zero-width space: invisible, not printable
}
HARMLESS = {2101: "Кабель USB-C", 2102: "100% cotton", 2103: "'quoted"}


@pytest.fixture
async def hostile_db(web_db: DatabaseConfig) -> DatabaseConfig:
    conn = await db.connect(web_db)
    try:
        await conn.executemany(
            "INSERT INTO products (id, title, category_id, seller_id) VALUES ($1, $2, 20, 100) "
            "ON CONFLICT (id) DO NOTHING",
            [*HOSTILE.items(), *HARMLESS.items()],
        )
    finally:
        await conn.close()
    return web_db


async def test_products_csv_guards_padded_and_full_width_formulas(
    hostile_db: DatabaseConfig, make_client: ClientFactory
) -> None:
    client, _ = await make_client()
    resp = await client.get("/products.csv?category=20&limit=100")
    assert resp.status == 200
    body = (await resp.read()).decode("utf-8-sig")
    titles = {int(r[0]): r[1] for r in list(csv.reader(io.StringIO(body)))[1:]}
    for pid, title in HOSTILE.items():
        assert titles[pid] == "'" + title, pid  # the original text survives behind the apostrophe
    for pid, title in HARMLESS.items():
        assert titles[pid] == title, pid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        (" +1", "' +1"),
        ("\r\n-1", "'\r\n-1"),
        ("\ufe661", "'\ufe661"),  # the small equals sign folds to '=' too
        ("", ""),
        ("a=b", "a=b"),
        (-5, "-5"),  # numbers are numbers, not text
    ],
)
def test_cell(value: object, expected: str) -> None:
    assert cell(value) == expected
