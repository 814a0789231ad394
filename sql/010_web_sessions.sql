-- Dashboard logins: one row per login, so that a logout or the expiry really ends it, across
-- restarts and on every daemon sharing this database. Only the SHA-256 of the cookie's random id
-- is stored (a dump of this table opens no dashboard); token_tag ties the session to the token
-- it was opened with, so rotating MARKETPLACED_WEB_TOKEN ends every session.
CREATE TABLE web_sessions (
    id_hash     bytea PRIMARY KEY,
    token_tag   bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    peer        text
);

-- every login deletes the expired rows first
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
