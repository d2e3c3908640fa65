-- The web console's sign-in sessions, shared by every worker and replica. The cookie carries a
-- random session id and its HMAC; only a SHA-256 of the id is kept, so this table (a backup, a
-- read replica) holds nothing that signs anyone in. `credential`: an HMAC of the token the
-- person signed in with, so a changed token ends the session without the token being stored.
CREATE TABLE console_sessions (
    id_hash    bytea PRIMARY KEY,
    principal  text NOT NULL,
    credential bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    origin     text
);
-- Expired sessions are deleted by expiry.
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);

-- The key that signs cookies and derives CSRF tokens: made once per database by the first
-- process that needs it, then read by every other, so any worker or replica accepts a cookie
-- another one set. Deleting the row ends every session.
CREATE TABLE console_keys (
    name       text PRIMARY KEY,
    key        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Live updates ask "which alerts changed since the last poll" once a second per daemon: a
-- changed row, or an escalation level that fired.
CREATE INDEX alerts_updated_at ON alerts (updated_at);
CREATE INDEX escalation_steps_fired_at ON escalation_steps (fired_at) WHERE fired_at IS NOT NULL;
