-- The trends page ranks a period's growth best first and worst first, each tie by the larger
-- base, then id: an index per direction lets each list stop at its tenth row instead of
-- sorting every row that grew (or shrank).
CREATE INDEX sales_periods_growing ON sales_periods (level, days, growth_pct DESC,
    prev_units DESC, id) WHERE growth_pct > 0;
CREATE INDEX sales_periods_losing ON sales_periods (level, days, growth_pct, prev_units DESC,
    id) WHERE growth_pct < 0;
