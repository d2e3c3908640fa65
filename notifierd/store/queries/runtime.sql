-- name: add_silence
INSERT INTO runtime_silences (matchers, starts_at, ends_at, reason, created_by)
VALUES ($1::text[], $2, $3, $4, $5)
RETURNING id, matchers, starts_at, ends_at, reason, created_by, created_at, expired_at, expired_by;

-- name: expire_silence
-- Ends a silence now. One still in force ends at $3 (the caller's now); one that already ended
-- is left alone and returned unchanged, so the caller can say so.
UPDATE runtime_silences
   SET expired_at = $3, expired_by = $2
 WHERE id = $1 AND expired_at IS NULL AND ends_at > $3
RETURNING id, matchers, starts_at, ends_at, reason, created_by, created_at, expired_at, expired_by;

-- name: get_silence
SELECT id, matchers, starts_at, ends_at, reason, created_by, created_at, expired_at, expired_by
  FROM runtime_silences WHERE id = $1;

-- name: active_silences
-- What every daemon holds in memory: not ended, early or on time ($1: the caller's clock).
-- Ones that start later are included: the in-memory check compares times.
SELECT id, matchers, starts_at, ends_at, reason, created_by, created_at, expired_at, expired_by
  FROM runtime_silences
 WHERE expired_at IS NULL AND ends_at > $1
 ORDER BY id;

-- name: recent_silences
-- The listing: active ones and those ended within $2 of $1, newest first.
SELECT id, matchers, starts_at, ends_at, reason, created_by, created_at, expired_at, expired_by
  FROM runtime_silences
 WHERE least(coalesce(expired_at, ends_at), ends_at) > $1::timestamptz - $2::interval
 ORDER BY created_at DESC, id DESC
 LIMIT $3;

-- name: add_override
INSERT INTO runtime_overrides (schedule, person, starts_at, ends_at, reason, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, schedule, person, starts_at, ends_at, reason, created_by, created_at, removed_at,
          removed_by;

-- name: remove_override
UPDATE runtime_overrides
   SET removed_at = $3, removed_by = $2
 WHERE id = $1 AND removed_at IS NULL AND ends_at > $3
RETURNING id, schedule, person, starts_at, ends_at, reason, created_by, created_at, removed_at,
          removed_by;

-- name: get_override
SELECT id, schedule, person, starts_at, ends_at, reason, created_by, created_at, removed_at,
       removed_by
  FROM runtime_overrides WHERE id = $1;

-- name: active_overrides
SELECT id, schedule, person, starts_at, ends_at, reason, created_by, created_at, removed_at,
       removed_by
  FROM runtime_overrides
 WHERE removed_at IS NULL AND ends_at > $1
 ORDER BY id;

-- name: recent_overrides
SELECT id, schedule, person, starts_at, ends_at, reason, created_by, created_at, removed_at,
       removed_by
  FROM runtime_overrides
 WHERE least(coalesce(removed_at, ends_at), ends_at) > $1::timestamptz - $2::interval
   AND ($3::text IS NULL OR schedule = $3)
 ORDER BY created_at DESC, id DESC
 LIMIT $4;
