-- Rows that landed in the DEFAULT partition of `parent` (their month had no partition yet, e.g.
-- the daemon ran for months without its retention job) block the creation of that month's
-- partition ("updated partition constraint for default partition … would be violated"). This
-- moves them into a partition of their own month, created for them, so the default partition is
-- empty again. Rows of months that end on or before `keep_from` are deleted instead: retention
-- would drop that month anyway. Runs in the caller's transaction (which should set a short
-- lock_timeout: creating a partition locks the parent). One row per month found: how many rows
-- were moved or deleted and which of the two.
CREATE FUNCTION marketplaced_adopt_default_rows(parent text, keep_from date)
RETURNS TABLE (month date, moved_rows bigint, expired boolean) LANGUAGE plpgsql AS $$
DECLARE
    default_part text;
    part_key text;
    m date;
    part text;
BEGIN
    SELECT d.relname, a.attname INTO default_part, part_key
    FROM pg_partitioned_table p
    JOIN pg_class d ON d.oid = p.partdefid
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = parent::regclass;
    IF default_part IS NULL THEN
        RETURN;  -- no default partition: nothing can land there
    END IF;
    FOR m IN EXECUTE format('SELECT DISTINCT date_trunc(''month'', %I)::date FROM %I ORDER BY 1',
                            part_key, default_part)
    LOOP
        month := m;
        expired := m + interval '1 month' <= keep_from;
        IF expired THEN
            EXECUTE format('DELETE FROM %I WHERE %I >= %L AND %I < %L', default_part,
                           part_key, m::timestamptz, part_key, (m + interval '1 month')::timestamptz);
            GET DIAGNOSTICS moved_rows = ROW_COUNT;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- the same naming and bounds as marketplaced_ensure_partitions
        part := format('%s_y%sm%s', parent, to_char(m, 'YYYY'), to_char(m, 'MM'));
        DROP TABLE IF EXISTS marketplaced_adopting;
        EXECUTE format('CREATE TEMP TABLE marketplaced_adopting (LIKE %I) ON COMMIT DROP', parent);
        EXECUTE format('WITH gone AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) '
                       'INSERT INTO marketplaced_adopting SELECT * FROM gone', default_part,
                       part_key, m::timestamptz, part_key, (m + interval '1 month')::timestamptz);
        GET DIAGNOSTICS moved_rows = ROW_COUNT;
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       part, parent, m::timestamptz, (m + interval '1 month')::timestamptz);
        EXECUTE format('INSERT INTO %I SELECT * FROM marketplaced_adopting', parent);
        DROP TABLE marketplaced_adopting;
        RETURN NEXT;
    END LOOP;
END $$;
