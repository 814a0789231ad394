"""Sales: units and revenue per SKU, product, seller and category per day, counted from the
change-based history (intervals.py), kept current as batches commit and recomputed for
finished days (rollup.py); periods are sums of days (marketplaced.web.queries.sales)."""
