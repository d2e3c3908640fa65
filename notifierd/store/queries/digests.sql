-- name: held_recipients
-- The recipients of channel $1 with deliveries held for a digest (migration 0014).
SELECT DISTINCT recipient FROM deliveries WHERE status = 'held' AND channel = $1;

-- name: claim_held
-- The held deliveries of channel $1 and recipient $2, oldest first, up to $3, locked until the
-- transaction ends: the digest listing them is sent and recorded before it commits, so another
-- replica skips them (SKIP LOCKED) and a crash before the commit leaves them held.
SELECT d.id, d.rendered->>'subject' AS title, r.received_at AS at
FROM deliveries AS d JOIN requests AS r ON r.id = d.request_id
WHERE d.status = 'held' AND d.channel = $1 AND d.recipient = $2
ORDER BY r.received_at, d.id
LIMIT $3
FOR UPDATE OF d SKIP LOCKED;

-- name: insert_digest_request
-- The digest's own request, so its delivery has a history like any other.
INSERT INTO requests (id, kind, outcome, payload, snapshot_id, received_at)
VALUES ($1, 'notification', 'routed', $2::jsonb, $3, $4);

-- name: insert_digest_delivery
INSERT INTO deliveries (id, request_id, channel, channel_type, recipient, status, attempts,
                        last_error, latency_ms, note, rendered, provider_id, snapshot_id,
                        next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14);

-- name: insert_digest_event
INSERT INTO delivery_events (delivery_id, status, attempt, error, latency_ms)
VALUES ($1, $2, $3, $4, $5);

-- name: insert_digest_dead_letter
INSERT INTO dead_letters (delivery_id, request_id, channel, recipient, error, attempts)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: mark_digested
-- The originals a digest listed: final, naming it; one history event each.
WITH up AS (
    UPDATE deliveries
    SET status = 'digested', digested_into = $2, updated_at = now(),
        note = concat_ws('; ', note, $3::text)
    WHERE id = ANY($1::uuid[]) AND status = 'held'
    RETURNING id, attempts
)
INSERT INTO delivery_events (delivery_id, status, attempt, error)
SELECT id, 'digested', attempts, NULL FROM up;

-- name: release_held
-- Held deliveries of channels not in $1, the channels that digest now (a reload dropped the
-- limit's overflow: digest, or the channel): due at once as retries, sent one by one by the
-- retrier (which records those of a channel gone as dead). Nothing held waits for a digest
-- that will not come.
UPDATE deliveries SET status = 'retrying', next_attempt_at = now(), updated_at = now()
WHERE status = 'held' AND channel <> ALL($1::text[]);
