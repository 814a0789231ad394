"""Uzum-compatible fake upstream: a seeded, deterministic catalogue and the routes that serve it.

The catalogue is a pure function of ``(seed, id, tick)``, so any product can be computed alone,
and a test can compute exactly what a scanner should have stored. Modules, from data to HTTP:
``vocabulary`` (real top-level categories and the words products are made of), ``salts`` (one
per seeded decision), ``formats`` (how Uzum writes prices, counts and keys), ``categories`` (the
tree), ``templates`` (the JSON bodies as text templates), ``sellers``, ``products`` (the static
part of a product), ``dynamics`` (what moves with ticks), ``oracle`` (what a scan should store),
``catalogue`` (``UzumCatalogue``, tying them together), ``simulator`` (catalogue + clock +
faults) and ``routes`` (aiohttp). The opt-in realistic dynamics add ``realism`` (their knobs),
``events`` (seeded event trains), ``lifecycle`` (dead ranges, growth above the frontier),
``activity`` (heavy-tailed per-product rates, delistings), ``realistic`` (the state they
render) and ``truth`` (``GroundTruth``: what changed when, for benchmarks).
"""

from marketplaced.simulator.uzum.catalogue import UzumCatalogue
from marketplaced.simulator.uzum.formats import MAX_PRICE, MIN_PRICE, round_orders
from marketplaced.simulator.uzum.oracle import ExpectedCategory, ExpectedProduct, ExpectedSku
from marketplaced.simulator.uzum.realism import DYNAMICS, DynamicsName, Realism
from marketplaced.simulator.uzum.routes import UZUM_SIMULATOR, add_uzum_routes, build_uzum_app
from marketplaced.simulator.uzum.simulator import CONTROL_CHARS, UzumSimulator
from marketplaced.simulator.uzum.truth import CHANGE_KINDS, ChangeKind, GroundTruth

__all__ = [
    "CHANGE_KINDS",
    "CONTROL_CHARS",
    "DYNAMICS",
    "MAX_PRICE",
    "MIN_PRICE",
    "UZUM_SIMULATOR",
    "ChangeKind",
    "DynamicsName",
    "ExpectedCategory",
    "ExpectedProduct",
    "ExpectedSku",
    "GroundTruth",
    "Realism",
    "UzumCatalogue",
    "UzumSimulator",
    "add_uzum_routes",
    "build_uzum_app",
    "round_orders",
]
