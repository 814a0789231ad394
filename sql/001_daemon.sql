-- The daemon's own tables: scan cursors, dead letters, parse failures, job runs, and the
-- helper that keeps monthly partitions of history tables ahead of time.

CREATE TABLE scan_cursors (
    scanner      text PRIMARY KEY,            -- e.g. 'uzum.products', 'uzum.products#2/4'
    position     bigint NOT NULL DEFAULT 0,   -- every id <= position of this cycle is committed
    cycle        integer NOT NULL DEFAULT 1,
    frontier     bigint NOT NULL DEFAULT 0,   -- highest id the current cycle will visit
    highest_seen bigint NOT NULL DEFAULT 0,   -- highest id that ever returned an entity
    state        jsonb NOT NULL DEFAULT '{}', -- platform-specific extras (UZEX page windows …)
    cycle_started_at timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letters (
    scope        text NOT NULL,               -- 'uzum.product', 'uzex.auction' …
    entity_id    bigint NOT NULL,
    kind         text NOT NULL,               -- error kind (http_status, transport, write_failed …)
    reason       text NOT NULL,
    attempts     integer NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, entity_id)
);
CREATE INDEX dead_letters_last_failed ON dead_letters (scope, last_failed_at);

CREATE TABLE parse_failures (
    scope        text NOT NULL,
    entity_id    text NOT NULL,
    reason       text NOT NULL,
    archive_ref  text,                        -- where the raw body was kept, when archived
    occurrences  integer NOT NULL DEFAULT 1,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, entity_id)
);

CREATE TABLE job_runs (
    id           bigserial PRIMARY KEY,
    job          text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text NOT NULL DEFAULT 'running', -- running / ok / failed / cancelled
    rows_touched bigint,
    error        text
);
CREATE INDEX job_runs_job_started ON job_runs (job, started_at DESC);

-- Create the monthly partitions of `parent` from `months_back` months ago to `months_ahead`
-- months ahead (idempotent). Partition names: <parent>_yYYYYmMM.
CREATE FUNCTION marketplaced_ensure_partitions(parent text, months_back integer, months_ahead integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m date;
    created integer := 0;
    part text;
BEGIN
    FOR i IN -months_back .. months_ahead LOOP
        m := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        part := format('%s_y%sm%s', parent, to_char(m, 'YYYY'), to_char(m, 'MM'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           part, parent, m::timestamptz, (m + interval '1 month')::timestamptz);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;
