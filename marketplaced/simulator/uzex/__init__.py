"""UZEX-compatible fake upstream: a seeded lot catalogue and the aiohttp routes that serve it.

`UzexCatalogue` generates completed deals, active lots and their items for every lot type from
a seed, in exactly the shapes recorded in `fixtures/uzex/`; `advance()` moves simulated time so a
continuous scanner sees new deals and active lots turning into completed ones. `UzexSimulator`
adds switchable upstream behaviours (`UzexFaults`), and `add_uzex_routes()` mounts every UZEX
host on one aiohttp application. It powers `marketplaced demo`, the tests and the benchmarks.

One origin serves all hosts, so each host lives under a path prefix. Point every host's base
URL at `{origin}/<prefix>` and build URLs exactly as for the real hosts:

    real base URL                          simulator base URL
    https://xarid-api-auction.uzex.uz      {origin}/auction
    https://xarid-api-shop.uzex.uz         {origin}/shop
    https://apietender.uzex.uz/api         {origin}/etender/api
    https://xarid-api-trade.uzex.uz        {origin}/trade

    POST /auction/Common/GetCompletedDeals                 completed auctions
    GET  /auction/Common/GetCompletedDealProducts/{lot_id} items of a completed auction
    POST /auction/Common/GetMinimizedLotsList              active auctions
    GET  /auction/Common/GetLot/{id}                       an active auction with its items
    POST /shop/Common/GetCompletedDeals                    shop (or national: body switches)
    POST /shop/Common/GetNotCompletedDeals                 active shop / national offers
    GET  /shop/Common/GetLot/{id}                          an active shop / national offer
    POST /etender/api/common/DealsList                     completed e-tender deals
    GET  /etender/api/common/GetTrade/{trade_id}/0         a trade with `budget_products`
    GET  /trade/Lib/GetCategories, /trade/Lib/GetRegions   reference lists

Lists take `from`/`to` (inclusive, 1-based; keys matched case-insensitively, as ASP.NET binds
them, so e-tender's `From`/`To` work too), answer newest first with `rn` and `total_count` in
every row, rows shuffled within the page, and an empty array past the end; region filters are
accepted and ignored. `GetMinimizedLotsList`, `GetLot` and `GetTrade` are not recorded in the
fixtures: their shapes follow public scrapers and are marked as such.

Modules: ``vocabulary`` (reference lists and words), ``lots`` (the lot model and its seeded
facts), ``payloads`` (one lot as each host's body), ``oracle`` (what a scan should store),
``catalogue`` (every lot, and time that moves them), ``routes`` (behaviours and HTTP).
"""

from marketplaced.simulator.uzex.catalogue import UzexCatalogue
from marketplaced.simulator.uzex.oracle import ExpectedItem, ExpectedLot
from marketplaced.simulator.uzex.routes import (
    UZEX_SIMULATOR,
    Host,
    UzexFaults,
    UzexSimulator,
    add_uzex_routes,
)
from marketplaced.simulator.uzex.vocabulary import CATEGORIES, REGIONS

__all__ = [
    "CATEGORIES",
    "REGIONS",
    "UZEX_SIMULATOR",
    "ExpectedItem",
    "ExpectedLot",
    "Host",
    "UzexCatalogue",
    "UzexFaults",
    "UzexSimulator",
    "add_uzex_routes",
]
