-- name: console_key
-- The named key, made by the first caller ($2: fresh random bytes, used only if none exists).
WITH made AS (
    INSERT INTO console_keys (name, key) VALUES ($1, $2)
    ON CONFLICT (name) DO NOTHING
    RETURNING key
)
SELECT key FROM made
UNION ALL
SELECT key FROM console_keys WHERE name = $1
LIMIT 1;

-- name: create_session
-- A new session for $3 seconds; returns when it expires. Sessions long expired are swept here:
-- sign-ins are rare, and the index on expires_at keeps this cheap.
WITH swept AS (
    DELETE FROM console_sessions WHERE expires_at < now() - interval '1 day'
)
INSERT INTO console_sessions (id_hash, principal, credential, expires_at, origin)
VALUES ($1, $2, $4, now() + make_interval(secs => $3), $5)
RETURNING expires_at;

-- name: find_session
-- A session that has not expired, and how many seconds it has left (Postgres' clock decides).
SELECT principal, credential, extract(epoch FROM expires_at - now())::float8 AS seconds_left
FROM console_sessions
WHERE id_hash = $1 AND expires_at > now();

-- name: end_session
DELETE FROM console_sessions WHERE id_hash = $1 RETURNING principal;
