-- The adaptive revisit schedule of Uzum ids (uzum.mode = "adaptive"): when each id is due next,
-- who holds it leased, and the state its change-rate estimate needs.
--
-- A sibling of uzum_visits rather than columns on it: next_due moves on every visit and has to
-- be indexed for claiming, and an indexed column that changes makes every update non-HOT. On
-- uzum_visits that would cost an index entry in its primary key and in the next_due index per
-- visit, on its wider rows; here the visits table keeps its HOT updates untouched and this
-- narrow row (~60 bytes) takes the non-HOT update alone. It also holds ids that never had a
-- product (misses, the frontier), which uzum_visits does not.
--
-- The only indexes: the primary key (never changes) and next_due for claiming. lease_until is
-- deliberately not indexed, so a claim (which sets only lease_until) is a HOT update; the claim
-- walks next_due in order and skips leased rows, which are few (at most one claim per daemon).
CREATE TABLE uzum_schedule (
    product_id  bigint PRIMARY KEY,
    next_due    timestamptz NOT NULL,
    lease_until timestamptz,                   -- claimed by a scanner until then (NULL: free)
    checked_at  timestamptz,                   -- the last committed visit (NULL: never)
    changes     real NOT NULL DEFAULT 0,       -- exponentially weighted count of changed visits
    span_h      real NOT NULL DEFAULT 0,       -- the same weighting of the hours they covered
    misses      integer NOT NULL DEFAULT 0     -- consecutive visits that found no product
) WITH (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.05
);

CREATE INDEX uzum_schedule_next_due ON uzum_schedule (next_due);
