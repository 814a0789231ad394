"""The seller and category day rows, moved by the differences of the product rows.

Seller rows and category rows (every level: a category includes its subcategories) are sums of
the product rows. Every write of product rows adds its difference — new rows minus the rows
they replaced — to them, so no sum over a whole seller or category is redone per batch. A
difference that comes to zero is not written: a day counted from scratch has no empty sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

from marketplaced.db import Conn
from marketplaced.sales import rollup_sql as q

#: the summed fields of a product row, in its tuple (rollup._product_row): units, revenue,
#: units_orders, units_stock, units_split, revenue_split, observations; then products_with_sales
#: (whether units > 0) is the eighth value of a difference
SUMMED = (4, 5, 6, 7, 8, 9, 11)


@dataclass(slots=True)
class Differences:
    """Per (day, seller) and (day, leaf category): what the sums move by, 8 values each."""

    sellers: dict[tuple[date, int], list[int]] = field(default_factory=dict)
    leaves: dict[tuple[date, int], list[int]] = field(default_factory=dict)

    def add(
        self, day: date, seller: int | None, category: int | None, values: Sequence[int]
    ) -> None:
        for target, key in ((self.sellers, seller), (self.leaves, category)):
            if key is None:
                continue
            acc = target.get((day, key))
            if acc is None:
                target[(day, key)] = list(values)
            else:
                for i, v in enumerate(values):
                    acc[i] += v

    def add_row(self, row: Sequence[Any], sign: int) -> None:
        """A product row (the tuple, or a stored row in its column order) added or taken away."""
        values = [sign * row[i] for i in SUMMED]
        values.append(sign * int(row[4] > 0))
        self.add(row[0], row[2], row[3], values)


def of_rows(old: Iterable[asyncpg.Record], new: Iterable[tuple[Any, ...]]) -> Differences:
    """The difference `new` rows make where they replace `old` ones (stored rows: by name)."""
    out = Differences()
    for rec in old:
        out.add_row(
            (rec["day"], rec["product_id"], rec["seller_id"], rec["category_id"], rec["units"],
             rec["revenue"], rec["units_orders"], rec["units_stock"], rec["units_split"],
             rec["revenue_split"], rec["restocked"], rec["observations"]),
            -1,
        )  # fmt: skip
    for row in new:
        out.add_row(row, 1)
    return out


async def write(conn: Conn, differences: Differences) -> None:
    sellers, leaves = _rows(differences.sellers), _rows(differences.leaves)
    if sellers or leaves:
        await conn.execute(q.ADD_SUMS, *_columns(sellers), *_columns(leaves))


def _rows(sums: dict[tuple[date, int], list[int]]) -> list[tuple[Any, ...]]:
    return [(day, key, *values) for (day, key), values in sums.items() if any(values)]


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(10)]
