-- name: record_audit
-- One action; a row with the same `dedup` already there (another replica recorded the same
-- thing) is left as it is.
INSERT INTO audit_log (at, actor, action, target, via, origin, outcome, detail, dedup)
VALUES (coalesce($1::timestamptz, now()), $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
ON CONFLICT (dedup) DO NOTHING;

-- name: search_audit
-- Newest first, every filter optional ($1 actor, $2 action, $3 target, $4 since, $5 until,
-- $6/$7 the keyset of the last row seen, $8 limit).
SELECT id, at, actor, action, target, via, origin, outcome, detail
  FROM audit_log
 WHERE ($1::text IS NULL OR actor = $1)
   AND ($2::text IS NULL OR action = $2)
   AND ($3::text IS NULL OR target = $3)
   AND ($4::timestamptz IS NULL OR at >= $4)
   AND ($5::timestamptz IS NULL OR at < $5)
   AND ($6::timestamptz IS NULL OR (at, id) < ($6, $7))
 ORDER BY at DESC, id DESC
 LIMIT $8;

-- name: purge_audit
DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: count_recent_audit
-- How many times $3 ($1 action, $2 outcome) came from one address in the last $4 seconds: the
-- failed sign-ins an address is allowed, counted across every worker and replica.
SELECT count(*) FROM audit_log
 WHERE action = $1 AND outcome = $2 AND origin = $3
   AND at > now() - make_interval(secs => $4);
