-- name: open_alert
-- Open an alert with its escalation plan and timeline entry, or join the open one with the same
-- dedup key (counted as an occurrence) — one statement, so one round trip per trigger. The
-- opener: $13 (a producer known by its queue), else who sent it over the API, else anonymous.
WITH up AS (
    INSERT INTO alerts AS a (id, dedup_key, status, policy, title, severity, snapshot_id, started_at, payload,
                             routes, opened_by, members)
    VALUES ($1, $2, 'triggered', $3, $4, $5, $6, $7, $8::jsonb, $12::text[],
            coalesce($13::text,
                     (SELECT principal FROM request_principals WHERE request_id = $1), 'anonymous'),
            $14::jsonb)
    ON CONFLICT (dedup_key) WHERE status <> 'resolved'
    DO UPDATE SET occurrences = a.occurrences + (CASE WHEN a.id = EXCLUDED.id THEN 0 ELSE 1 END),
                  updated_at = now()
    RETURNING a.id, a.dedup_key, a.status, a.policy, a.occurrences, a.started_at, (a.id = $1) AS opened
), steps AS (
    INSERT INTO escalation_steps (alert_id, round, level, due_at)
    SELECT up.id, t.round, t.level, t.due_at
    FROM up, unnest($9::int[], $10::int[], $11::timestamptz[]) AS t(round, level, due_at)
    WHERE up.opened
    ON CONFLICT DO NOTHING
), event AS (
    INSERT INTO alert_events (alert_id, kind, via, detail)
    SELECT up.id, CASE WHEN up.opened THEN 'triggered' ELSE 'occurrence' END, 'queue',
           'request ' || $1 || CASE WHEN up.opened THEN '' ELSE ' (occurrence ' || up.occurrences || ')' END
    FROM up
)
SELECT * FROM up;

-- name: lock_open_alert_members
-- The open alert of a dedup key and the roster it last heard (migration 0017), its row locked
-- until the transaction ends: two changes of one roster are compared one after the other.
SELECT id, members::text AS members FROM alerts
WHERE dedup_key = $1 AND status <> 'resolved'
FOR UPDATE;

-- name: set_alert_members
UPDATE alerts SET members = $2::jsonb, updated_at = now() WHERE id = $1;

-- name: add_alert_event
INSERT INTO alert_events (alert_id, kind, actor, via, detail) VALUES ($1, $2, $3, $4, $5);

-- name: add_steps
-- The escalation plan of a new alert; a replay of the same trigger adds nothing.
INSERT INTO escalation_steps (alert_id, round, level, due_at)
SELECT $1, t.round, t.level, t.due_at FROM unnest($2::int[], $3::int[], $4::timestamptz[]) AS t(round, level, due_at)
ON CONFLICT DO NOTHING;

-- name: find_alert
-- By alert id, else the open alert of a dedup key, else the newest alert of that key.
SELECT id, dedup_key, status, policy, title, severity, occurrences, snapshot_id, started_at,
       acknowledged_at, acknowledged_by, resolved_at, resolved_by, opened_by, routes
FROM alerts
WHERE id = $1 OR dedup_key = $1
ORDER BY (id = $1) DESC, (status <> 'resolved') DESC, started_at DESC
LIMIT 1;

-- name: acknowledge_alert
UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2, updated_at = now()
WHERE id = $1 AND status = 'triggered'
RETURNING id;

-- name: resolve_alert
UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = $2, updated_at = now()
WHERE id = $1 AND status <> 'resolved'
RETURNING id;

-- name: cancel_steps
UPDATE escalation_steps SET status = 'cancelled' WHERE alert_id = $1 AND status = 'pending';

-- name: lock_alert_status
-- The alert's status, its row locked until the transaction ends: "escalate now" requests of one
-- alert (from any replica) then take turns, and an acknowledge or resolve waits for them too.
SELECT status FROM alerts WHERE id = $1 FOR UPDATE;

-- name: step_escalated_moments_ago
-- The step an "escalate now" at $2 joins rather than move past: one another request brought
-- forward less than $3 seconds before, fired or not. Two people pressing Escalate at once page
-- one level, not two, however fast the first level goes out. (A step due already but failing
-- is not joined: then the next level is what the person asking needs.)
SELECT round, level, requested_by FROM escalation_steps
WHERE alert_id = $1 AND requested_at > $2::timestamptz - make_interval(secs => $3)
ORDER BY requested_at DESC
LIMIT 1;

-- name: escalate_now
-- Bring the alert's next pending step forward to $2, and every later pending step by as much,
-- so the gaps between levels (and rounds) stay as the policy has them, counted from now. The
-- step brought forward names who asked ($3). Returns that step first, then the one after it.
WITH next AS (
    SELECT round, level, greatest(due_at - $2::timestamptz, interval '0') AS early
    FROM escalation_steps
    WHERE alert_id = $1 AND status = 'pending'
    ORDER BY round, level
    LIMIT 1
    FOR UPDATE
), moved AS (
    UPDATE escalation_steps AS s
    SET due_at = s.due_at - next.early,
        requested_by = CASE WHEN (s.round, s.level) = (next.round, next.level)
                            THEN $3::text ELSE s.requested_by END,
        requested_at = CASE WHEN (s.round, s.level) = (next.round, next.level)
                            THEN $2::timestamptz ELSE s.requested_at END
    FROM next
    WHERE s.alert_id = $1 AND s.status = 'pending'
    RETURNING s.round, s.level, s.due_at
)
SELECT round, level, due_at FROM moved ORDER BY round, level LIMIT 2;

-- name: claim_due_steps
-- Due steps with what firing them needs; SKIP LOCKED: each step is claimed by one replica.
-- Due by $4 when given (a test's clock), else by Postgres' now(): one clock for every replica,
-- whose own clocks may disagree, and leases must not.
WITH claimed AS (
    UPDATE escalation_steps AS s
    SET status = 'firing', lease_until = coalesce($4::timestamptz, now()) + make_interval(secs => $2),
        fired_by = $3
    WHERE (s.alert_id, s.round, s.level) IN (
        SELECT e.alert_id, e.round, e.level FROM escalation_steps AS e
        WHERE e.status = 'pending' AND e.due_at <= coalesce($4::timestamptz, now())
        ORDER BY e.due_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
    RETURNING s.alert_id, s.round, s.level, s.due_at, s.requested_by
)
SELECT c.alert_id, c.round, c.level, c.due_at, c.requested_by, a.status, a.policy, a.dedup_key,
       a.title, a.payload::text AS payload
FROM claimed AS c JOIN alerts AS a ON a.id = c.alert_id;

-- name: reclaim_expired_steps
-- Steps whose claimer died mid-way (lease over, by $1 or else Postgres' now()) are due again.
UPDATE escalation_steps SET status = 'pending', lease_until = NULL
WHERE (alert_id, round, level) IN (
    SELECT alert_id, round, level FROM escalation_steps
    WHERE status = 'firing' AND lease_until < coalesce($1::timestamptz, now())
    LIMIT 1000
    FOR UPDATE SKIP LOCKED);

-- name: retry_steps_later
-- Steps whose notification failed keep their claim only briefly: reclaim_expired_steps makes
-- them due again after $4 seconds instead of the whole lease (from $5, or else Postgres' now()).
UPDATE escalation_steps AS s SET lease_until = coalesce($5::timestamptz, now()) + make_interval(secs => $4)
FROM unnest($1::text[], $2::int[], $3::int[]) AS t(alert_id, round, level)
WHERE s.alert_id = t.alert_id AND s.round = t.round AND s.level = t.level AND s.status = 'firing';

-- name: finish_steps
UPDATE escalation_steps AS s SET status = t.status, fired_at = now(), lease_until = NULL
FROM unnest($1::text[], $2::int[], $3::int[], $4::text[]) AS t(alert_id, round, level, status)
WHERE s.alert_id = t.alert_id AND s.round = t.round AND s.level = t.level AND s.status = 'firing';

-- name: add_alert_events
INSERT INTO alert_events (alert_id, kind, actor, via, detail)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]);

-- name: try_steps_maintenance_lock
-- One replica at a time vacuums the steps table (a session-level advisory lock).
SELECT pg_try_advisory_lock(hashtext('notifierd:escalation_steps:vacuum'));

-- name: steps_maintenance_unlock
SELECT pg_advisory_unlock(hashtext('notifierd:escalation_steps:vacuum'));

-- name: next_due_at
-- The first entry of the pending-steps index.
SELECT min(due_at) FROM escalation_steps WHERE status = 'pending';

-- name: next_due_steps
SELECT alert_id, round, level, due_at FROM escalation_steps
WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at LIMIT $2;

-- name: alert_request
SELECT payload::text AS payload, started_at AS received_at FROM alerts WHERE id = $1;

-- name: told_deliveries
-- Where an alert's notifications were delivered: its own request and its fired escalation
-- steps' (requests naming the step, see migration 0006), the first message per place. A schedule
-- delivery's place is the address it paged (migration 0013): a follow-up after a handoff goes to
-- whom the alert paged, not to whoever is on call now.
SELECT DISTINCT ON (channel, coalesce(resolved_address, recipient))
       channel, channel_type, coalesce(resolved_address, recipient) AS recipient, provider_id,
       rendered::text AS rendered
FROM deliveries
WHERE request_id = ANY(
        $1::text || ARRAY(SELECT r.id FROM requests AS r JOIN escalation_steps AS s
                              ON s.alert_id = r.alert_id AND s.round = r.step_round
                             AND s.level = r.step_level
                          WHERE r.alert_id = $1 AND s.status = 'fired'))
  AND status IN ('delivered', 'dry_run')
ORDER BY channel, coalesce(resolved_address, recipient), created_at;

-- name: sent_messages_of_alert
-- Every message the alert and its escalation steps delivered through the channels named in $2
-- (those whose sender can rewrite a sent message), each to be rewritten in place.
SELECT channel, channel_type, provider_id, rendered::text AS rendered
FROM deliveries
WHERE request_id = ANY(
        $1::text || ARRAY(SELECT r.id FROM requests AS r JOIN escalation_steps AS s
                              ON s.alert_id = r.alert_id AND s.round = r.step_round
                             AND s.level = r.step_level
                          WHERE r.alert_id = $1 AND s.status = 'fired'))
  AND channel = ANY($2::text[]) AND status = 'delivered' AND provider_id IS NOT NULL
ORDER BY created_at;

-- name: alert_of_step
-- The alert an escalation step's notification was sent for, by the notification's request id
-- (what the buttons of its messages carry).
SELECT a.id, a.dedup_key, a.status, a.policy, a.title, a.severity, a.occurrences, a.snapshot_id,
       a.started_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by,
       a.opened_by, a.routes
FROM requests AS r JOIN alerts AS a ON a.id = r.alert_id
WHERE r.id = $1;

-- name: alert_by_id
SELECT id, dedup_key, status, policy, title, severity, occurrences, snapshot_id, started_at,
       acknowledged_at, acknowledged_by, resolved_at, resolved_by, opened_by, routes
FROM alerts WHERE id = $1;

-- name: list_alerts
-- Open alerts first (triggered, then acknowledged), newest first in each, then resolved ones;
-- $1 keeps one status. Two branches, so that neither sorts every alert: the open ones are read
-- through the partial index alerts_open_dedup_key (few, whatever the history), the resolved
-- ones along alerts_started_at backwards, stopping at the page; a branch that $1 rules out is
-- a one-time filter on the parameter, so it reads nothing. Only the page's rows then look
-- up, by the primary key of escalation_steps, their current level (the last step fired, or
-- firing now) and when the next pending one is due (null once acknowledged or resolved: those
-- steps are cancelled).
SELECT a.id, a.dedup_key, a.status, a.policy, a.title, a.severity, a.occurrences, a.started_at,
       a.acknowledged_by, a.resolved_by, a.updated_at, fired.round AS current_round,
       fired.level AS current_level, pending.due_at AS next_escalation_at
FROM ((SELECT id, dedup_key, status, policy, title, severity, occurrences, started_at,
              acknowledged_by, resolved_by, updated_at,
              CASE status WHEN 'triggered' THEN 0 ELSE 1 END AS rank
       FROM alerts
       WHERE status <> 'resolved' AND ($1::text IS NULL OR (status = $1 AND $1 <> 'resolved'))
       ORDER BY rank, started_at DESC, id DESC
       LIMIT $2)
      UNION ALL
      (SELECT id, dedup_key, status, policy, title, severity, occurrences, started_at,
              acknowledged_by, resolved_by, updated_at, 2 AS rank
       FROM alerts
       WHERE status = 'resolved' AND ($1::text IS NULL OR $1 = 'resolved')
       ORDER BY started_at DESC, id DESC
       LIMIT $2)
      ORDER BY rank, started_at DESC, id DESC
      LIMIT $2) AS a
LEFT JOIN LATERAL (SELECT s.round, s.level FROM escalation_steps AS s
                   WHERE s.alert_id = a.id AND s.status IN ('fired', 'firing')
                   ORDER BY s.round DESC, s.level DESC LIMIT 1) AS fired ON true
LEFT JOIN LATERAL (SELECT min(s.due_at) AS due_at FROM escalation_steps AS s
                   WHERE s.alert_id = a.id AND s.status = 'pending') AS pending ON true
ORDER BY a.rank, a.started_at DESC, a.id DESC;

-- name: alerts_changed_since
-- Live updates: the alerts changed after $1 — their row (status, occurrences, members) or an
-- escalation level fired — at most $2, oldest change first, with Postgres' clock at the poll
-- (one row with NULL columns when nothing changed). The alert columns are list_alerts': the
-- console renders a changed alert's row as the alerts page does.
WITH changed AS (
    SELECT id AS alert_id, updated_at AS changed_at FROM alerts WHERE updated_at > $1
    UNION ALL
    SELECT alert_id, fired_at FROM escalation_steps WHERE fired_at > $1
), latest AS (
    SELECT alert_id, max(changed_at) AS changed_at FROM changed
    GROUP BY alert_id ORDER BY 2 LIMIT $2
)
SELECT clock.polled_at, a.id, a.dedup_key, a.status, a.policy, a.title, a.severity,
       a.occurrences, a.started_at, a.acknowledged_by, a.resolved_by, a.updated_at,
       fired.round AS current_round, fired.level AS current_level,
       pending.due_at AS next_escalation_at, l.changed_at
FROM (SELECT now() AS polled_at) AS clock
LEFT JOIN (latest AS l JOIN alerts AS a ON a.id = l.alert_id) ON true
LEFT JOIN LATERAL (SELECT s.round, s.level FROM escalation_steps AS s
                   WHERE s.alert_id = a.id AND s.status IN ('fired', 'firing')
                   ORDER BY s.round DESC, s.level DESC LIMIT 1) AS fired ON true
LEFT JOIN LATERAL (SELECT min(s.due_at) AS due_at FROM escalation_steps AS s
                   WHERE s.alert_id = a.id AND s.status = 'pending') AS pending ON true
ORDER BY l.changed_at;

-- name: alert_timeline
SELECT kind, actor, via, detail, at FROM alert_events WHERE alert_id = $1 ORDER BY at, id;

-- name: alert_timeline_page
-- One page of a long timeline (a flapping alert has thousands of events): the newest $2 events,
-- or the newest $2 older than the event ($3, $4), newest first, along alert_events_alert
-- (alert_id, at) — only the rows shown are read (`at <= $3` is the index's condition, the
-- rest its filter: an older page starts where the newer one ended).
SELECT id, kind, actor, via, detail, at FROM alert_events
WHERE alert_id = $1
  AND ($3::timestamptz IS NULL OR at <= $3)
  AND ($3::timestamptz IS NULL OR at < $3 OR (at = $3 AND id < $4::bigint))
ORDER BY at DESC, id DESC
LIMIT $2;

-- name: alert_steps
-- With each fired step, where its notification went: for a schedule recipient, who it paged and
-- by which contact (deliveries.resolved_*, migration 0013), found through the request naming
-- the step (migration 0006).
SELECT s.round, s.level, s.due_at, s.status, s.fired_at, s.fired_by, s.requested_by,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                            'channel', d.channel, 'recipient', d.recipient, 'status', d.status,
                            'person', d.resolved_person, 'via', d.resolved_via,
                            'address', coalesce(d.resolved_address, nullif(d.recipient, '')))
                        ORDER BY d.channel, d.recipient)
                 FROM requests AS r JOIN deliveries AS d ON d.request_id = r.id
                 WHERE r.alert_id = s.alert_id AND r.step_round = s.round
                   AND r.step_level = s.level), '[]'::jsonb)::text AS paged
FROM escalation_steps AS s
WHERE s.alert_id = $1 ORDER BY s.due_at, s.round, s.level;

-- name: count_open_alerts
SELECT count(*) FROM alerts WHERE status <> 'resolved';

-- name: claim_handoff_notice
-- The replica whose insert wins tells the person (see migration 0013); no row: another did.
INSERT INTO handoff_notices (schedule_id, shift_start, person, request_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
RETURNING request_id;

-- name: open_alerts_on_routes
-- Alerts not resolved whose opening request matched one of the routes $1, oldest first.
SELECT id, title, status FROM alerts
WHERE status <> 'resolved' AND routes && $1::text[]
ORDER BY started_at
LIMIT $2;
