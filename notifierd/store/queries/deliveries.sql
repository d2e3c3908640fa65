-- name: record_outcomes
-- A batch's requests and their deliveries' outcomes in one statement, so in one round trip and
-- one commit: a transaction around a statement for each took four trips (BEGIN, two statements,
-- COMMIT), which at a steady rate — a batch of one or two requests — cost a worker more CPU
-- than the rows (bench/README.md). Neither part reads the other's table, so it does not matter
-- that the sub-statements of one statement do not see each other's rows.
--
-- $1: the requests, one request_outcome each (migration 0022); a replay after a crash
-- overwrites its own row. An escalation step's notification names its step (alert_id,
-- step_round, step_level; NULL for any other request: see migration 0006). The producer whose
-- queue it came from (migration 0008) is not updated by a replay.
--
-- $2: the deliveries' outcomes, one delivery_outcome each, with their history events and dead
-- letters. A row already final ($3: notifierd.status.FINAL_DELIVERY_STATUSES) is never
-- overwritten: replays cannot undo it. A delivery inserted complete ($4: delivered or dry_run)
-- gets no event row: nothing can change it afterwards, so its one-event history is the row
-- itself (Store.request_status reads it so), and the common case writes two rows per request,
-- not three.
WITH request_rows AS (
    INSERT INTO requests (id, kind, outcome, reason, payload, routes, snapshot_id, received_at,
                          alert_id, step_round, step_level, producer)
    SELECT t.id, t.kind, t.outcome, t.reason, t.payload::jsonb, t.routes::jsonb, t.snapshot_id,
           t.received_at, t.alert_id, t.step_round, t.step_level, t.producer
    FROM unnest($1::request_outcome[]) AS t
    ON CONFLICT (id) DO UPDATE
    SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, routes = EXCLUDED.routes,
        snapshot_id = EXCLUDED.snapshot_id, updated_at = now()
), input AS (
    SELECT * FROM unnest($2::delivery_outcome[])
), up AS (
    INSERT INTO deliveries AS d (id, request_id, channel, channel_type, recipient, status, attempts,
                                 last_error, latency_ms, template, note, rendered, provider_id,
                                 snapshot_id, next_attempt_at, resolved_person, resolved_via,
                                 resolved_address)
    SELECT id, request_id, channel, channel_type, recipient, status, attempts, last_error,
           latency_ms, template, note, rendered::jsonb, provider_id, snapshot_id, next_attempt_at,
           resolved_person, resolved_via, resolved_address
    FROM input
    ON CONFLICT (request_id, channel, recipient) DO UPDATE
    SET status = EXCLUDED.status, attempts = d.attempts + EXCLUDED.attempts,
        last_error = EXCLUDED.last_error, latency_ms = EXCLUDED.latency_ms,
        template = EXCLUDED.template, note = EXCLUDED.note, rendered = EXCLUDED.rendered,
        provider_id = EXCLUDED.provider_id, snapshot_id = EXCLUDED.snapshot_id,
        next_attempt_at = EXCLUDED.next_attempt_at, lease_until = NULL, updated_at = now(),
        -- Who a schedule delivery paged is decided once: a later write never moves it.
        resolved_person = coalesce(d.resolved_person, EXCLUDED.resolved_person),
        resolved_via = coalesce(d.resolved_via, EXCLUDED.resolved_via),
        resolved_address = coalesce(d.resolved_address, EXCLUDED.resolved_address)
    WHERE d.status <> ALL($3::text[])
    -- xmax is 0 only on a row this statement inserted: ON CONFLICT locks (so sets the xmax of)
    -- a row before it updates it.
    RETURNING d.id, d.request_id, d.channel, d.recipient, d.status, d.attempts, d.last_error,
              d.latency_ms, d.xmax = 0 AS inserted
), events AS (
    INSERT INTO delivery_events (delivery_id, status, attempt, error, latency_ms)
    SELECT id, status, attempts, last_error, latency_ms FROM up
    WHERE NOT (inserted AND status = ANY($4::text[]))
)
INSERT INTO dead_letters (delivery_id, request_id, channel, recipient, error, attempts)
SELECT id, request_id, channel, recipient, last_error, attempts FROM up WHERE status = 'dead'
ON CONFLICT (delivery_id) DO UPDATE
SET error = EXCLUDED.error, attempts = EXCLUDED.attempts, dead_at = now(), retried_at = NULL;

-- name: insert_fallbacks
-- The deliveries to make instead of dead ones ($14: the dead one's id), after those outcomes in
-- the same transaction: a row for a dead delivery that is not on record as dead (a replica
-- whose lease had ended, a replay that found it final) is not written. A (request, channel,
-- recipient) already on record is left as it is: one delivery per pair, whether a route or
-- another dead delivery made it; the dead one names it all the same (its id is the same: ids
-- come from request, channel and recipient). A replay writes the same ids again.
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                         $12::timestamptz[], $13::int[], $14::uuid[])
        AS t(id, request_id, channel, channel_type, recipient, status, last_error, template,
             note, rendered, snapshot_id, next_attempt_at, attempts, fallback_of)
    WHERE EXISTS (SELECT 1 FROM deliveries AS dead
                  WHERE dead.id = t.fallback_of AND dead.status = $15::text)
), made AS (
    INSERT INTO deliveries (id, request_id, channel, channel_type, recipient, status, attempts,
                            last_error, template, note, rendered, snapshot_id, next_attempt_at,
                            fallback_of)
    SELECT id, request_id, channel, channel_type, recipient, status, attempts, last_error,
           template, note, rendered::jsonb, snapshot_id, next_attempt_at, fallback_of
    FROM input
    ON CONFLICT DO NOTHING
    RETURNING id, request_id, channel, recipient, status, attempts, last_error
), events AS (
    INSERT INTO delivery_events (delivery_id, status, attempt, error)
    SELECT id, status, attempts, last_error FROM made
), letters AS (
    -- A fallback whose template cannot render for its channel is dead at once.
    INSERT INTO dead_letters (delivery_id, request_id, channel, recipient, error, attempts)
    SELECT id, request_id, channel, recipient, last_error, attempts FROM made
    WHERE status = $15::text
    ON CONFLICT (delivery_id) DO NOTHING
)
UPDATE deliveries AS d
-- Kept with any named before: a delivery requeued from the dead-letter queue may die again
-- after a reload changed its channel's fallback.
SET fallbacks = ARRAY(SELECT DISTINCT unnest(coalesce(d.fallbacks, '{}') || linked.ids))
FROM (SELECT fallback_of, array_agg(DISTINCT id) AS ids FROM input GROUP BY fallback_of)
     AS linked
WHERE d.id = linked.fallback_of;

-- name: known_deliveries
-- What earlier processing already recorded for these requests (idempotent replays).
SELECT request_id, channel, recipient, status FROM deliveries WHERE request_id = ANY($1::text[]);

-- name: claim_due_retries
-- Take due retries (and retries whose claimer died), up to a number per channel ($1 channels,
-- $2 how many each): every channel's retries have their own room, so a receiver that never
-- answers holds back only its own. $3 is the lease. SKIP LOCKED keeps replicas apart. Due by $4
-- when given (a test's clock), else by Postgres' now(): one clock for every replica, whose own
-- clocks may disagree, and leases must not.
WITH room AS (
    SELECT * FROM unnest($1::text[], $2::int[]) AS t(channel, n)
), picked AS (
    SELECT due.id FROM room CROSS JOIN LATERAL (
        SELECT d.id FROM deliveries AS d
        WHERE d.channel = room.channel
          AND ((d.status = 'retrying' AND d.next_attempt_at <= coalesce($4::timestamptz, now()))
               OR (d.status = 'sending' AND d.lease_until < coalesce($4::timestamptz, now())))
        ORDER BY d.next_attempt_at
        LIMIT room.n
        FOR UPDATE SKIP LOCKED) AS due
)
UPDATE deliveries AS d
SET status = 'sending', lease_until = coalesce($4::timestamptz, now()) + make_interval(secs => $3),
    updated_at = now()
FROM requests AS r, picked
WHERE d.id = picked.id AND d.request_id = r.id
RETURNING d.id, d.request_id, d.channel, d.channel_type, d.recipient, d.attempts, d.template,
          d.note, d.rendered::text AS rendered, r.payload::text AS payload, r.received_at,
          d.fallback_of, d.resolved_address, d.resolved_person, d.resolved_via;

-- name: claim_due_retries_elsewhere
-- Due retries of channels not in $1 (gone from the config): taken to be recorded dead. $4 as
-- in claim_due_retries.
UPDATE deliveries AS d
SET status = 'sending', lease_until = coalesce($4::timestamptz, now()) + make_interval(secs => $3),
    updated_at = now()
FROM requests AS r
WHERE d.request_id = r.id
  AND d.id IN (
      SELECT id FROM deliveries
      WHERE channel <> ALL($1::text[])
        AND ((status = 'retrying' AND next_attempt_at <= coalesce($4::timestamptz, now()))
             OR (status = 'sending' AND lease_until < coalesce($4::timestamptz, now())))
      ORDER BY next_attempt_at
      LIMIT $2
      FOR UPDATE SKIP LOCKED)
RETURNING d.id, d.request_id, d.channel, d.channel_type, d.recipient, d.attempts, d.template,
          d.note, d.rendered::text AS rendered, r.payload::text AS payload, r.received_at,
          d.fallback_of, d.resolved_address, d.resolved_person, d.resolved_via;

-- name: finish_retries
-- Outcomes of claimed retries, with their events and dead letters.
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::float8[], $6::text[],
                         $7::timestamptz[], $8::text[], $9::text[], $10::text[])
        AS t(id, status, attempts, last_error, latency_ms, provider_id, next_attempt_at,
             resolved_person, resolved_via, resolved_address)
), up AS (
    UPDATE deliveries AS d
    SET status = i.status, attempts = i.attempts, last_error = i.last_error,
        latency_ms = i.latency_ms, provider_id = i.provider_id, next_attempt_at = i.next_attempt_at,
        lease_until = NULL, updated_at = now(),
        -- Set only by a retry that resolved its schedule for the first time (it had paged no one).
        resolved_person = coalesce(i.resolved_person, d.resolved_person),
        resolved_via = coalesce(i.resolved_via, d.resolved_via),
        resolved_address = coalesce(i.resolved_address, d.resolved_address)
    FROM input AS i
    WHERE d.id = i.id AND d.status = 'sending'
    RETURNING d.id, d.request_id, d.channel, d.recipient, d.status, d.attempts, d.last_error, d.latency_ms
), events AS (
    INSERT INTO delivery_events (delivery_id, status, attempt, error, latency_ms)
    SELECT id, status, attempts, last_error, latency_ms FROM up
)
INSERT INTO dead_letters (delivery_id, request_id, channel, recipient, error, attempts)
SELECT id, request_id, channel, recipient, last_error, attempts FROM up WHERE status = 'dead'
ON CONFLICT (delivery_id) DO UPDATE
SET error = EXCLUDED.error, attempts = EXCLUDED.attempts, dead_at = now(), retried_at = NULL;

-- name: upsert_dead_requests
-- Requests whose processing failed (see migration 0004); a request dead again replaces its row.
INSERT INTO dead_requests (request_id, queue, raw, error)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (request_id) DO UPDATE
SET queue = EXCLUDED.queue, raw = EXCLUDED.raw, error = EXCLUDED.error, dead_at = now(),
    retried_at = NULL;

-- name: insert_rejected
INSERT INTO rejected_requests (raw, reason, raw_size) VALUES ($1, $2, $3);

-- name: count_rejected
SELECT count(*) FROM rejected_requests WHERE rejected_at >= $1;

-- name: record_request_principal
-- The principal that sent request $1 over the API; the first writer of an id keeps it.
INSERT INTO request_principals (request_id, principal) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: request_principal
SELECT principal FROM request_principals WHERE request_id = $1;
