-- name: request_by_id
-- With its alert: the one whose step it notifies (0006), else the one it opened (an alert's id
-- is its opening request's), found by primary key.
SELECT r.id, r.kind, r.outcome, r.reason, r.payload::text AS payload, r.routes::text AS routes,
       r.snapshot_id, r.received_at, r.updated_at, r.producer, r.step_round, r.step_level,
       coalesce(r.alert_id, (SELECT a.id FROM alerts AS a WHERE a.id = r.id)) AS alert_id
FROM requests AS r WHERE r.id = $1;

-- name: deliveries_of_request
SELECT id, channel, channel_type, recipient, status, attempts, last_error, latency_ms, template,
       note, rendered::text AS rendered, provider_id, next_attempt_at, created_at, updated_at,
       fallback_of, fallbacks, resolved_person, resolved_via, resolved_address, digested_into
FROM deliveries WHERE request_id = $1 ORDER BY created_at, channel, recipient;

-- name: events_of_request
SELECT e.delivery_id, e.status, e.attempt, e.error, e.latency_ms, e.at
FROM delivery_events AS e JOIN deliveries AS d ON d.id = e.delivery_id
WHERE d.request_id = $1 ORDER BY e.at, e.id;

-- name: search_deliveries
-- Deliveries newest first, each filter optional ($1 request id, $2 words of the title, $3 a
-- channel name or type, $4 recipient, $5 status, $6/$7 created since/until), continuing after
-- the keyset ($8 created_at, $9 id) of the last row of the previous page: a page costs the same
-- however deep it is, and rows written meanwhile neither repeat nor go missing. The order is
-- the index deliveries_newest (0016) read backwards; a request id uses the unique index on
-- (request_id, channel, recipient), a recipient deliveries_recipient_newest. The title is a
-- case-insensitive substring of the request's title: LIKE with the words' own % _ \ escaped,
-- so a rare word is found through the trigram index requests_title_trgm (0018) and a common
-- one along deliveries_newest, checked on the rows the other filters leave.
SELECT d.id, d.request_id, d.channel, d.channel_type, d.recipient, d.status, d.attempts,
       d.last_error, d.latency_ms, d.template, d.created_at, d.updated_at,
       r.payload->>'title' AS title, r.kind
FROM deliveries AS d JOIN requests AS r ON r.id = d.request_id
WHERE ($1::text IS NULL OR d.request_id = $1)
  AND ($2::text IS NULL
       OR lower(r.payload->>'title')
          LIKE '%' || replace(replace(replace(lower($2), '\', '\\'), '%', '\%'), '_', '\_') || '%')
  AND ($3::text IS NULL OR d.channel = $3 OR d.channel_type = $3)
  AND ($4::text IS NULL OR d.recipient = $4)
  AND ($5::text IS NULL OR d.status = $5)
  AND ($6::timestamptz IS NULL OR d.created_at >= $6)
  AND ($7::timestamptz IS NULL OR d.created_at < $7)
  AND ($8::timestamptz IS NULL OR (d.created_at, d.id) < ($8, $9::uuid))
ORDER BY d.created_at DESC, d.id DESC
LIMIT $10;

-- name: metrics_by_channel
SELECT channel, channel_type,
       count(*) AS total,
       count(*) FILTER (WHERE status IN ('delivered', 'dry_run')) AS delivered,
       count(*) FILTER (WHERE status = 'dead') AS dead,
       count(*) FILTER (WHERE status IN ('retrying', 'sending', 'queued')) AS pending,
       count(*) FILTER (WHERE status IN ('suppressed', 'deduplicated')) AS held_back,
       sum(greatest(attempts - 1, 0)) AS retries,
       avg(latency_ms) FILTER (WHERE status IN ('delivered', 'dry_run')) AS avg_latency_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)
           FILTER (WHERE status IN ('delivered', 'dry_run')) AS p50_latency_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms)
           FILTER (WHERE status IN ('delivered', 'dry_run')) AS p99_latency_ms
FROM deliveries WHERE created_at >= $1
GROUP BY channel, channel_type ORDER BY channel;

-- name: request_outcomes
SELECT outcome, count(*) AS n FROM requests WHERE received_at >= $1 GROUP BY outcome ORDER BY outcome;

-- name: dlq_list
-- Dead deliveries and dead requests (their processing failed), newest first; a channel filter
-- leaves the requests out. Each kind is cut to the page before the two are merged: the dead
-- deliveries are read newest first along dead_letters_dead_at, each joined to its request as
-- it comes, instead of joining them all to their requests and sorting (0.4 s with 20,000).
SELECT * FROM (
    (SELECT 'delivery' AS kind, l.delivery_id, l.request_id, l.channel, l.recipient, l.error,
            l.attempts, l.dead_at, r.payload->>'title' AS title
     FROM dead_letters AS l JOIN requests AS r ON r.id = l.request_id
     WHERE l.retried_at IS NULL AND ($1::text IS NULL OR l.channel = $1)
     ORDER BY l.dead_at DESC
     LIMIT $2)
    UNION ALL
    (SELECT 'request', NULL, d.request_id, NULL, NULL, d.error, 0, d.dead_at,
            r.payload->>'title'
     FROM dead_requests AS d LEFT JOIN requests AS r ON r.id = d.request_id
     WHERE d.retried_at IS NULL AND $1::text IS NULL
     ORDER BY d.dead_at DESC
     LIMIT $2)
) AS letters
ORDER BY dead_at DESC
LIMIT $2;

-- name: dlq_retry
-- Requeue dead deliveries (all, or those named) for a fresh round of retries.
WITH picked AS (
    UPDATE dead_letters SET retried_at = now()
    WHERE retried_at IS NULL AND ($1::boolean OR delivery_id = ANY($2::uuid[]) OR request_id = ANY($3::text[]))
    RETURNING delivery_id
), up AS (
    UPDATE deliveries AS d
    SET status = 'retrying', attempts = 0, next_attempt_at = now(), lease_until = NULL, updated_at = now()
    FROM picked WHERE d.id = picked.delivery_id
    RETURNING d.id
), events AS (
    INSERT INTO delivery_events (delivery_id, status, attempt, error)
    SELECT id, 'requeued', 0, 'requeued from the dead-letter queue' FROM up
)
SELECT count(*) FROM up;

-- name: dlq_take_requests
-- Dead requests to put back on their queues (all, or those named); the caller pushes them to
-- Redis before it commits, so a failed push leaves them dead.
UPDATE dead_requests SET retried_at = now()
WHERE retried_at IS NULL AND ($1::boolean OR request_id = ANY($2::text[]))
RETURNING request_id, queue, raw;

-- name: alert_gauges
-- What /metrics shows of alerts: how many are open, and how long the oldest escalation step
-- that should have fired has been waiting (0: none) — due and pending, or claimed by a replica
-- whose lease ran out. It grows while escalations fall behind, even when none fires, which
-- the lateness of fired steps cannot show. By $1 when given (a test's clock), else Postgres'
-- now(), as the claims are; both minima are read from the partial indexes on due_at and
-- lease_until.
SELECT
    (SELECT count(*) FROM alerts WHERE status <> 'resolved') AS open_alerts,
    greatest(0, coalesce(extract(epoch FROM coalesce($1::timestamptz, now()) - least(
        (SELECT min(due_at) FROM escalation_steps WHERE status = 'pending'),
        (SELECT min(lease_until) FROM escalation_steps WHERE status = 'firing'))), 0))::float8
        AS escalation_overdue;
