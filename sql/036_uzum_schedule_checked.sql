-- Leveling the maximum-age visits (marketplaced/platforms/uzum/claims.py): a share of each claim
-- goes to the ids checked longest ago, read through this index from the oldest instead of
-- sorting the schedule, and the load ahead is counted from it. Visits already change indexed
-- columns (next_due, rate_h), so the index costs one more index entry per visit.
CREATE INDEX uzum_schedule_checked ON uzum_schedule (checked_at);
