-- name: purge_requests
-- One batch of old requests; their deliveries, events and dead letters go with them (cascade).
-- Short batches and SKIP LOCKED keep locks brief and let replicas purge side by side.
DELETE FROM requests WHERE id IN (
    SELECT id FROM requests WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_rejected
DELETE FROM rejected_requests WHERE id IN (
    SELECT id FROM rejected_requests WHERE rejected_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_alerts
-- Resolved alerts only: an alert still open is never history, however old.
DELETE FROM alerts WHERE id IN (
    SELECT id FROM alerts WHERE status = 'resolved' AND resolved_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);
