"""The fake upstreams ("simulator") that stand in for the real APIs in tests, demo and benchmarks.

The Uzum part serves ``api.uzum.uz``'s paths and payload shapes from a seeded, deterministic
catalogue (``catalogue``) whose orders, stock and prices move as simulated time passes, with
switchable faults (``faults``); ``uzum`` holds the aiohttp routes.
"""

from marketplaced.simulator.catalogue import ExpectedProduct, ExpectedSku, UzumCatalogue
from marketplaced.simulator.faults import FaultProfile
from marketplaced.simulator.uzum import UzumSimulator, add_uzum_routes, build_uzum_app

__all__ = [
    "ExpectedProduct",
    "ExpectedSku",
    "FaultProfile",
    "UzumCatalogue",
    "UzumSimulator",
    "add_uzum_routes",
    "build_uzum_app",
]
