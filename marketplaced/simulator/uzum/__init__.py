"""Uzum-compatible fake upstream: a seeded, deterministic catalogue and the routes that serve it.

The catalogue is a pure function of ``(seed, id, tick)``, so any product can be computed alone,
and a test can compute exactly what a scanner should have stored. Modules, from data to HTTP:
``vocabulary`` (real top-level categories and the words products are made of), ``salts`` (one
per seeded decision), ``formats`` (how Uzum writes prices, counts and keys), ``categories`` (the
tree), ``templates`` (the JSON bodies as text templates), ``sellers``, ``products`` (the static
part of a product), ``dynamics`` (what moves with ticks), ``oracle`` (what a scan should store),
``catalogue`` (``UzumCatalogue``, tying them together), ``simulator`` (catalogue + clock +
faults) and ``routes`` (aiohttp).
"""

from marketplaced.simulator.uzum.catalogue import UzumCatalogue
from marketplaced.simulator.uzum.formats import MAX_PRICE, MIN_PRICE, round_orders
from marketplaced.simulator.uzum.oracle import ExpectedCategory, ExpectedProduct, ExpectedSku
from marketplaced.simulator.uzum.routes import UZUM_SIMULATOR, add_uzum_routes, build_uzum_app
from marketplaced.simulator.uzum.simulator import CONTROL_CHARS, UzumSimulator

__all__ = [
    "CONTROL_CHARS",
    "MAX_PRICE",
    "MIN_PRICE",
    "UZUM_SIMULATOR",
    "ExpectedCategory",
    "ExpectedProduct",
    "ExpectedSku",
    "UzumCatalogue",
    "UzumSimulator",
    "add_uzum_routes",
    "build_uzum_app",
    "round_orders",
]
