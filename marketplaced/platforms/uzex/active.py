"""The active-lots scanner of one lot type: every cycle re-reads the open lots until they close.

Each cycle walks the whole active list from the top (hundreds of lots, a few pages). Auctions
get `GetLot/{id}` per lot, which adds the customer and the items at start prices; shop and
national rows are their own single item. A lot that closed drops off this list and is picked up,
with its deal, by the completed-deals scanner; the storage never takes a completed lot back to
active, so the order in which the two scanners' pages commit does not matter. A `GetLot` 404
(the lot was removed while the list still showed it) keeps the list row.

Lots that close while a cycle reads the list shift the rows below them up; the page's
`total_count` shows the list shrank and that window is read again. A lot that still slips
through is read on the next cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.parser import PageResult, parse_active_lots, parse_lot_detail
from marketplaced.platforms.uzex.records import LotRecord, LotType
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner
from marketplaced.platforms.uzex.storage import UzexPage, scope
from marketplaced.platforms.uzex.walk import Walk


def _auction_detail(lot_id: int, data: object) -> PageResult:
    return parse_lot_detail("auction", data)


class ActiveScanner(UzexScanner):
    """Open lots of one lot type (auction, shop or national)."""

    def __init__(
        self,
        cfg: UzexConfig,
        lot_type: LotType,
        deps: ScanDeps,
        *,
        plan: UzexPlan | None = None,
    ) -> None:
        if lot_type == "etender":
            raise ValueError("e-tender active trades are not scanned")
        self.lot_type = lot_type
        super().__init__(
            cfg,
            deps,
            name=f"uzex.{lot_type}.active",
            scope=scope(lot_type),
            plan=plan,
        )

    async def _restore(self) -> None:
        cursor = await self._load_cursor()
        if cursor is not None:
            self.stats.cycle, self.stats.highest_seen = cursor.cycle, cursor.highest_seen

    async def _cycle(self) -> None:
        st = self.stats
        st.state = "scanning"
        st.cycle += 1
        self._cycle_started_at = datetime.now(UTC)
        walk, total, lots = Walk(), 0, 0
        while not walk.done and not self._target_reached():
            first, last = walk.window(self.cfg.page_size, total)
            page = await self._read_page(first, last)
            if page is None or page.total_count is None:
                break  # failed (retried next cycle) or past the end
            lots += len(page.lots)
            if walk.below is not None and page.total_count < total:
                total = page.total_count  # lots closed meanwhile: ask that window again
                continue
            walk.advance(page.total_count, last)
            total = page.total_count
        st.position = st.frontier = total
        await self._put_mark(total, total, {"pages": walk.pages, "lots": lots})
        self._log.info("cycle_finished", cycle=st.cycle, pages=walk.pages, lots=lots, total=total)

    async def _read_page(self, first: int, last: int) -> PageResult | None:
        """fetch → archive → parse → GetLot per auction lot → enqueue."""
        lot_type, key = self.lot_type, f"active:{first}-{last}"
        got = await self._get_list(key, lambda: self.client.active_page(lot_type, first, last))
        if got is None:
            return None
        resp, ref = got
        result = await self._parse_list(key, ref, lambda: parse_active_lots(lot_type, resp.data))
        if result is None or not result.lots:
            return result
        lots: dict[int, LotRecord] = {lot.lot_id: lot for lot in result.lots}
        items = list(result.items)
        complete = {item.lot_id for item in items}
        if lot_type == "auction":
            details = await self._details(
                list(lots),
                "lot",
                lambda i: self.client.lot_detail(lot_type, i),
                _auction_detail,
                dead_letters=False,
            )
            for detail in details:
                if detail.result is not None and detail.result.lots:
                    lots[detail.lot_id] = detail.result.lots[0]  # richer: customer, items
                    items.extend(detail.result.items)
                    complete.add(detail.lot_id)
        page = UzexPage(lot_type, "active", tuple(lots.values()), tuple(items), tuple(complete))
        await self._writer.put(page)
        self._count(len(lots), len(items), max(lots))
        return result
