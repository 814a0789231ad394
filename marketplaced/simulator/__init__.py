"""The fake upstreams ("simulator") that stand in for the real APIs in tests, demo and benchmarks.

``uzum`` serves ``api.uzum.uz``'s paths and payload shapes from a seeded, deterministic
catalogue whose orders, stock and prices move as simulated time passes; ``uzex`` does the same
for UZEX's hosts and lots. Both share the seeded hashes (``rng``), the time bases (``clock``)
and the switchable faults (``faults``); ``app`` serves both from one aiohttp server
(``marketplaced simulate``).
"""

from marketplaced.simulator.faults import FaultProfile
from marketplaced.simulator.uzum import (
    ExpectedProduct,
    ExpectedSku,
    UzumCatalogue,
    UzumSimulator,
    add_uzum_routes,
    build_uzum_app,
)

__all__ = [
    "ExpectedProduct",
    "ExpectedSku",
    "FaultProfile",
    "UzumCatalogue",
    "UzumSimulator",
    "add_uzum_routes",
    "build_uzum_app",
]
