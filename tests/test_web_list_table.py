"""A list's table (templates/_macros.html `table`, written by web/list_table.py): what it shows
— every value escaped, links, hover texts, the compare checkboxes, the empty list — and how
much work a page of it is: a bounded number of Python calls per cell, counted (not timed),
because the table of a 50-row list was most of the server's time per list page."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import jinja2

from marketplaced.web.app import HERE
from marketplaced.web.listing import Page
from marketplaced.web.queries.catalog import PRODUCT_SALES_COLUMNS
from marketplaced.web.views.common import template_globals
from tests.helpers.calls import calls_during

TEMPLATE = "{% from '_macros.html' import table %}{{ table(page, 'products', select=select) }}"
HOSTILE = '<script>alert("x")</script> & "quotes"'


def env() -> jinja2.Environment:
    e = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    e.globals.update(template_globals(UTC))
    return e


def product(i: int) -> dict[str, Any]:
    return {
        "id": 1000 + i, "title": HOSTILE if i == 0 else f"Product {i}", "category_id": 7,
        "category": "Phones", "seller_id": None if i == 1 else 30, "seller": "Shop",
        "price": 125_000 + i, "rating": 4.5, "reviews": 10, "orders": 3 * i, "stock": None,
        "units": i, "revenue": 1000 * i, "growth_pct": 12.5 if i % 2 else None,
        "counted": "order-counter delta; 3 observations" if i else None,
    }  # fmt: skip


def render(rows: list[dict[str, Any]], select: str | None = None) -> str:
    page = Page(rows, columns=PRODUCT_SALES_COLUMNS)
    return env().from_string(TEMPLATE).render(page=page, select=select)


def test_cells_are_escaped_linked_and_explained() -> None:
    html = render([product(0), product(1), product(2)])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert '<td class="text"><a href="/products/1000">&lt;script&gt;' in html
    assert '<td class="money"><a href="/how-we-count">125 002</a></td>' not in html
    assert '<td class="money">125 002</td>' in html  # price: no link
    # a link whose value is missing is no link; a missing value is a dash
    assert '<td class="text">Shop</td>' in html and '<td class="int">—</td>' in html
    assert '<a href="/sellers/30">Shop</a>' in html
    # the figure's hover text says how it was counted, when it is known
    assert (
        '<td class="int" title="order-counter delta; 3 observations">'
        '<a href="/how-we-count">2</a></td>'
    ) in html
    assert '<td class="int"><a href="/how-we-count">0</a></td>' in html
    assert html.count("<tr>") == 4 and "Compare" not in html


def test_compare_checkboxes_and_the_empty_list() -> None:
    html = render([product(3)], select="compare-sellers")
    assert "<th>Compare</th>" in html
    assert (
        '<td><input type="checkbox" name="ids" value="1003" form="compare-sellers" '
        'aria-label="compare 1003"></td></tr>'
    ) in html
    empty = render([], select="compare-sellers")
    span = len(PRODUCT_SALES_COLUMNS) + 1
    assert f'<tr><td colspan="{span}" class="empty">nothing matches</td></tr>' in empty


def test_a_page_costs_a_few_calls_per_cell() -> None:
    rows = 50
    page = [product(i) for i in range(rows)]
    cells = rows * len(PRODUCT_SALES_COLUMNS)
    template = env().from_string(TEMPLATE)

    def draw() -> str:
        return template.render(page=Page(page, columns=PRODUCT_SALES_COLUMNS), select=None)

    draw()  # the macros' template is compiled at its first use
    calls = calls_during(draw)
    # as a Jinja macro: 59 calls a cell (the template runtime's per value, link and test)
    assert calls / cells < 30, f"{calls} calls for {cells} cells"
