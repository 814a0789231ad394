"""One salt per independent seeded decision of the Uzum catalogue, all in one table.

Each decision hashes ``(seed, salt, id)``; distinct salts keep decisions uncorrelated (whether an
id exists says nothing about its seller), and keeping them together keeps two decisions from
ever sharing one by accident. Changing a value changes every generated catalogue.
"""

from __future__ import annotations

from typing import Final

EXISTS: Final = 1
STATIC: Final = 2
LEAF: Final = 3
SELLER: Final = 4
PRICE: Final = 5
RATING: Final = 6
TREE: Final = 7
SELLER_STATIC: Final = 8
TIME: Final = 9
#: the realistic dynamics' own decisions (``realism``): none of them moves a default catalogue
DEAD_RANGE: Final = 10
GROWTH: Final = 11
ACTIVITY: Final = 12
ORDER_EVENTS: Final = 13
PRICE_EVENTS: Final = 14
STOCK_EVENTS: Final = 15
DELISTINGS: Final = 16
