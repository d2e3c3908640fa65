-- name: expect_heartbeats
-- Rows for the configured heartbeats that have none yet: each is expected from now on.
INSERT INTO heartbeats (name, since)
SELECT name, coalesce($2::timestamptz, now()) FROM unnest($1::text[]) AS c(name)
ON CONFLICT (name) DO NOTHING;

-- name: claim_late_heartbeats
-- The heartbeats past their interval + grace that are not late yet, marked late in one
-- statement: a concurrent replica's UPDATE waits for this row lock, then finds state 'late' and
-- claims nothing. $1 names, $2 allowed seconds (interval + grace), $3 the clock (None: now()).
UPDATE heartbeats h
   SET state = 'late', late_since = coalesce($3::timestamptz, now()),
       alert_id = 'heartbeat:' || h.name || ':' || (h.beats)::text || ':'
                  || to_char(coalesce($3::timestamptz, now()) AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS')
  FROM unnest($1::text[], $2::float8[]) AS c(name, allowed)
 WHERE h.name = c.name
   AND h.state = 'ok'
   AND coalesce(h.last_beat, h.since) + make_interval(secs => c.allowed)
       < coalesce($3::timestamptz, now())
RETURNING h.name, h.last_beat, h.since, h.late_since, h.alert_id;

-- name: lock_heartbeat
SELECT state, alert_id FROM heartbeats WHERE name = $1 FOR UPDATE;

-- name: record_beat
-- A beat: back to 'ok'. The caller read the previous state under the row lock (lock_heartbeat).
INSERT INTO heartbeats AS h (name, since, last_beat, beats, state)
VALUES ($1, coalesce($2::timestamptz, now()), coalesce($2::timestamptz, now()), 1, 'ok')
ON CONFLICT (name) DO UPDATE
   SET last_beat = excluded.last_beat, beats = h.beats + 1, state = 'ok', late_since = NULL;

-- name: list_heartbeats
SELECT name, since, last_beat, beats, state, late_since, alert_id
  FROM heartbeats WHERE name = ANY($1::text[]) ORDER BY name;

-- name: unclaim_heartbeat
UPDATE heartbeats SET state = 'ok', late_since = NULL, alert_id = NULL
 WHERE name = $1 AND alert_id = $2 AND state = 'late';

-- name: open_alerts_of_beating_heartbeats
-- Alerts still open for heartbeats that beat again: their beat came before the alert, which was
-- still on the queue, opened (a backed-up queue). $1 names.
SELECT h.name, a.id AS alert_id
  FROM heartbeats h
  JOIN alerts a ON a.dedup_key = 'heartbeat:' || h.name
 WHERE h.name = ANY($1::text[]) AND h.state = 'ok' AND a.status IN ('triggered', 'acknowledged')
 ORDER BY a.started_at;
