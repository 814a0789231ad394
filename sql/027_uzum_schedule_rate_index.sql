-- Spare request budget goes to the known ids of highest change rate (visits ahead of time,
-- marketplaced/platforms/uzum/claims.py): the claim walks this index from the top (equal
-- rates: the soonest due first) instead of sorting the whole schedule. Visits already change
-- next_due, which is indexed, so their updates were never heap-only: the index costs one more
-- index entry per visit.
CREATE INDEX uzum_schedule_rate ON uzum_schedule (rate_h DESC, next_due);
