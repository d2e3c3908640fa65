-- name: record_webhook_requests
-- A payload's requests, once each: an id seen before keeps its first row.
INSERT INTO webhook_requests (id, source, payload, principal)
SELECT id, $2, payload::jsonb, $4
  FROM unnest($1::text[], $3::text[]) AS r(id, payload)
ON CONFLICT (id) DO NOTHING;

-- name: unqueued_webhook_requests
-- Of these ids, those not on the queue yet (new, refused by Redis before, or lost by it), in
-- payload order,
-- locked: a copy of the payload posted meanwhile waits, then finds them queued (READ COMMITTED
-- checks queued_at again after the wait).
SELECT w.id, w.payload::text AS payload
  FROM unnest($1::text[]) WITH ORDINALITY AS r(id, n)
  JOIN webhook_requests w ON w.id = r.id
 WHERE w.queued_at IS NULL
    -- Queued long ago and still without an outcome: the queue lost it (Redis keeps nothing on
    -- disk here, a restart empties it), and the sender's re-send brings it back.
    OR (w.queued_at < now() - $2::interval
        AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.id = w.id))
 ORDER BY r.n
   FOR UPDATE OF w;

-- name: mark_webhook_requests_queued
UPDATE webhook_requests SET queued_at = now() WHERE id = ANY($1::text[]);

-- name: known_webhook_requests
-- Which of these ids a payload brought before (a re-send: storm control counts them no more).
SELECT id FROM webhook_requests WHERE id = ANY($1::text[]);

-- name: open_alert_for_key
SELECT EXISTS (SELECT 1 FROM alerts WHERE dedup_key = $1 AND status <> 'resolved');
