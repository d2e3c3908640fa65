-- name: purge_requests
-- One batch of old requests with their deliveries, delivery events and dead letters, in one
-- statement (no foreign keys cascade on these tables: see migration 0003).
-- Short batches and SKIP LOCKED keep locks brief and let replicas purge side by side.
WITH doomed AS (
    SELECT id FROM requests WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM deliveries WHERE request_id IN (SELECT id FROM doomed) RETURNING id
), events AS (
    DELETE FROM delivery_events WHERE delivery_id IN (SELECT id FROM gone)
), letters AS (
    DELETE FROM dead_letters WHERE delivery_id IN (SELECT id FROM gone)
), dead AS (
    DELETE FROM dead_requests WHERE request_id IN (SELECT id FROM doomed)
), senders AS (
    DELETE FROM request_principals WHERE request_id IN (SELECT id FROM doomed)
)
DELETE FROM requests WHERE id IN (SELECT id FROM doomed);

-- name: purge_orphans
-- Old deliveries whose request is gone (deleted by a replica still running a version from
-- before migration 0003, when a cascade took them), with their events and dead letters.
WITH doomed AS (
    SELECT d.id FROM deliveries AS d
    WHERE d.created_at < $1
      AND NOT EXISTS (SELECT 1 FROM requests AS r WHERE r.id = d.request_id)
    LIMIT $2 FOR UPDATE SKIP LOCKED
), events AS (
    DELETE FROM delivery_events WHERE delivery_id IN (SELECT id FROM doomed)
), letters AS (
    DELETE FROM dead_letters WHERE delivery_id IN (SELECT id FROM doomed)
)
DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed);

-- name: purge_orphan_steps
-- Old escalation steps whose alert is gone (deleted by such an older replica).
DELETE FROM escalation_steps WHERE (alert_id, round, level) IN (
    SELECT s.alert_id, s.round, s.level FROM escalation_steps AS s
    WHERE s.due_at < $1 AND NOT EXISTS (SELECT 1 FROM alerts AS a WHERE a.id = s.alert_id)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_orphan_alert_events
-- Old alert timeline entries whose alert is gone (deleted by such an older replica).
DELETE FROM alert_events WHERE id IN (
    SELECT e.id FROM alert_events AS e
    WHERE e.at < $1 AND NOT EXISTS (SELECT 1 FROM alerts AS a WHERE a.id = e.alert_id)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_rejected
DELETE FROM rejected_requests WHERE id IN (
    SELECT id FROM rejected_requests WHERE rejected_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_alerts
-- Resolved alerts only: an alert still open is never history, however old. Their steps and
-- timeline go in the same statement.
WITH doomed AS (
    SELECT id FROM alerts
    WHERE status = 'resolved' AND resolved_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
), steps AS (
    DELETE FROM escalation_steps WHERE alert_id IN (SELECT id FROM doomed)
), events AS (
    DELETE FROM alert_events WHERE alert_id IN (SELECT id FROM doomed)
)
DELETE FROM alerts WHERE id IN (SELECT id FROM doomed);

-- name: purge_webhook_requests
-- The webhook intake ledger (migration 0019): a sender re-sending a payload older than this
-- queues it again (a firing alert then joins or opens an alert, as a new one would).
DELETE FROM webhook_requests WHERE id IN (
    SELECT id FROM webhook_requests WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_runtime_silences
-- Run-time silences that ended (on time or early) before the cut-off; the audit log keeps who
-- added and ended them for as long as it keeps anything.
DELETE FROM runtime_silences WHERE id IN (
    SELECT id FROM runtime_silences
    WHERE least(coalesce(expired_at, ends_at), ends_at) < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: purge_runtime_overrides
DELETE FROM runtime_overrides WHERE id IN (
    SELECT id FROM runtime_overrides
    WHERE least(coalesce(removed_at, ends_at), ends_at) < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);
