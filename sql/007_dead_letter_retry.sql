-- "Retry" on the status page used to set last_failed_at = '-infinity' to make ids due at once.
-- That value has no date form outside PostgreSQL (pages and the API failed on it) and it erased
-- when the id really failed last. A retry request is now its own column: the failure times stay
-- true, and a new failure clears the request.
ALTER TABLE dead_letters ADD COLUMN retry_requested_at timestamptz;

-- Rows already marked the old way keep their request; their real last failure is lost, and
-- first_failed_at is the latest time still known to be a failure of that id.
UPDATE dead_letters SET retry_requested_at = now(), last_failed_at = first_failed_at
WHERE NOT isfinite(last_failed_at);

-- the scanners' "what is due" reads the requested ids of a scope first
CREATE INDEX dead_letters_retry_requested ON dead_letters (scope)
WHERE retry_requested_at IS NOT NULL;
