"""The per-day sales charts of the seller page and the comparison (web/sales_charts.py): a hover
marker per observed day with its exact value, a hollow marker for a day never observed, every
seller's name escaped — and a bounded number of Python calls per day drawn, counted (not timed):
five sellers over 30 days are 300 markers a page, which were most of its server time."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from marketplaced.web.queries.seller_sales import Day
from marketplaced.web.sales_charts import DayLine, day_lines
from tests.helpers.calls import calls_during

TZ = ZoneInfo("Asia/Tashkent")
DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
HOSTILE = '<b>Shop</b> & "Co"'


def lines(sellers: int) -> list[DayLine]:
    return [
        DayLine(
            HOSTILE if j == 0 else f"Seller {j}",
            tuple(
                Day(d, None, None) if i == 4 else Day(d, i + j, 1500 * (i + j))
                for i, d in enumerate(DAYS)
            ),
        )
        for j in range(sellers)
    ]


def test_markers_say_the_day_its_value_or_that_it_was_never_observed() -> None:
    svg = str(day_lines(lines(2), "revenue", title="Revenue per day, so'm", tz=TZ))
    assert "<b>" not in svg
    label = "&lt;b&gt;Shop&lt;/b&gt; &amp; &#34;Co&#34;"
    assert f"<title>{label} · 03.11.2026 · 3 000 so&#39;m</title></circle>" in svg
    assert "<title>Seller 1 · 30.11.2026 · 45 000 so&#39;m</title></circle>" in svg
    assert svg.count("not observed (unknown, not zero)") == 2
    assert '<a href="/how-we-count"><rect class="unobserved"' in svg
    assert svg.count('<circle class="pt s0"') == 29 and svg.count('<circle class="pt s1"') == 29


def test_a_days_marker_costs_a_bounded_number_of_calls() -> None:
    drawn = lines(5)
    count = calls_during(lambda: day_lines(drawn, "revenue", title="Revenue per day, so'm", tz=TZ))
    points = 5 * len(DAYS)
    # with a `Markup.format` per marker: 204 calls a day drawn (the formatter runs in Python)
    assert count / points < 100, f"{count} calls for {points} days drawn"
