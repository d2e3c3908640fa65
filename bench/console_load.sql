-- The console benchmark's data (bench/console.py), generated inside Postgres: a month of a busy
-- installation's history. Run in order on one connection (temporary tables carry the plan from
-- one statement to the next); `bench_scale` holds the sizes and the moment the month ends.

-- name: scale
CREATE TEMP TABLE bench_scale (
    deliveries int NOT NULL,
    alerts     int NOT NULL,
    anchor     timestamptz NOT NULL,     -- the newest moment of the month
    channels   text[] NOT NULL,          -- the channels, most used first
    types      text[] NOT NULL,
    recipients text[] NOT NULL,          -- how each channel names its recipients
    cumulative float8[] NOT NULL,        -- the first delivery's channel: cumulative weights
    symptoms   text[] NOT NULL,          -- a title's words, most frequent first
    services   text[] NOT NULL
);

-- name: set_scale
INSERT INTO bench_scale VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: plan_alerts
-- 96.5 % resolved; the newest 3.5 % still open (three in five triggered, the rest
-- acknowledged). Alert `long_timeline` (the tenth newest, triggered) flapped all month: 2,000
-- occurrences and ten rounds of its policy. Dedup keys repeat among the resolved (an alert that
-- comes back) and are distinct among the open, as the unique index wants.
CREATE TEMP TABLE bench_alerts AS
SELECT n, id, status, policy, levels, severity, title, started_at,
       CASE WHEN n = s.alerts - 10 THEN 2000 ELSE 1 + (random() ^ 6 * 40)::int END AS occurrences,
       CASE WHEN n = s.alerts - 10 THEN 10 ELSE 1 END AS rounds,
       CASE WHEN status <> 'triggered' THEN started_at + handled END AS acknowledged_at,
       CASE WHEN status = 'resolved' THEN started_at + handled * 1.5 END AS resolved_at,
       'dk-' || (n % greatest(s.alerts / 3, 1)) AS dedup_key
FROM bench_scale AS s, LATERAL (
    SELECT g AS n,
           'am-' || substr(md5('alert' || g), 1, 20) AS id,
           CASE WHEN g <= s.alerts * 0.965 THEN 'resolved'
                WHEN g % 5 < 3 THEN 'triggered' ELSE 'acknowledged' END AS status,
           CASE WHEN g % 5 = 0 THEN NULL
                WHEN g % 5 < 3 THEN 'critical-incident' ELSE 'standard-incident' END AS policy,
           CASE WHEN g % 5 = 0 THEN 0 WHEN g % 5 < 3 THEN 3 ELSE 2 END AS levels,
           (ARRAY['critical', 'warning', 'info'])[1 + g % 3] AS severity,
           s.symptoms[1 + (random() ^ 2 * (array_length(s.symptoms, 1) - 1))::int] || ' on '
               || s.services[1 + (random() ^ 2 * (array_length(s.services, 1) - 1))::int]
               || '-' || (1 + g % 40) AS title,
           s.anchor - interval '30 days' * (1 - g::float8 / s.alerts) - random() * interval '1 hour'
               AS started_at,
           interval '2 minutes' + random() ^ 3 * interval '6 hours' AS handled
    FROM generate_series(1, s.alerts) AS g
) AS a;
UPDATE bench_alerts SET rounds = 10, occurrences = 2000, status = 'triggered',
                        acknowledged_at = NULL, resolved_at = NULL, policy = 'critical-incident',
                        levels = 3, started_at = (SELECT anchor - interval '29 days' FROM bench_scale)
WHERE n = (SELECT alerts - 10 FROM bench_scale);
ANALYZE bench_alerts;

-- name: plan_steps
-- Each policy's levels, 15 minutes apart; a step due before the alert was handled fired, a
-- later one was cancelled, and an open alert's next step is pending (bench/console.py keeps
-- it in the future while it measures, so the daemon fires nothing).
CREATE TEMP TABLE bench_steps AS
SELECT a.id AS alert_id, r AS round, l AS level,
       a.started_at + interval '15 minutes' * (r * a.levels + l - 1) AS due_at,
       CASE WHEN a.started_at + interval '15 minutes' * (r * a.levels + l - 1)
                 < coalesce(a.acknowledged_at, (SELECT anchor FROM bench_scale)) THEN 'fired'
            WHEN a.status = 'triggered' THEN 'pending'
            ELSE 'cancelled' END AS status
FROM bench_alerts AS a, generate_series(0, a.rounds - 1) AS r, generate_series(1, a.levels) AS l;
ANALYZE bench_steps;

-- name: plan_requests
-- Every request: the alerts' opening requests, one per fired step (migration 0006 names the
-- step), and plain notifications for the rest; 2.5 deliveries each, so the deliveries come to
-- bench_scale.deliveries. `first_channel`: the first delivery's channel, by weight.
CREATE TEMP TABLE bench_requests AS
WITH wanted AS (SELECT ceil(deliveries / 2.5)::int AS requests FROM bench_scale),
openers AS (
    SELECT id, 'alert' AS kind, title, severity, started_at AS received_at, NULL::text AS alert_id,
           NULL::int AS step_round, NULL::int AS step_level
    FROM bench_alerts
), steps AS (
    SELECT s.alert_id || ':r' || (s.round + 1) || 'l' || s.level, 'alert', a.title, a.severity,
           s.due_at, s.alert_id, s.round, s.level
    FROM bench_steps AS s JOIN bench_alerts AS a ON a.id = s.alert_id
    WHERE s.status = 'fired'
), notifications AS (
    SELECT md5('request' || g)::uuid::text, 'notification',
           CASE WHEN random() < 0.00005 THEN 'Kernel panic'
                ELSE sc.symptoms[1 + (random() ^ 2 * (array_length(sc.symptoms, 1) - 1))::int] END
               || ' on ' || sc.services[1 + (random() ^ 2 * (array_length(sc.services, 1) - 1))::int]
               || '-' || (1 + (random() * 39)::int)
               || ' (' || (ARRAY['eu-west-1', 'us-east-1', 'ap-south-1'])[1 + g % 3] || ')',
           (ARRAY['info', 'warning', 'critical', 'info'])[1 + g % 4],
           sc.anchor - random() * interval '30 days', NULL, NULL::int, NULL::int
    FROM bench_scale AS sc,
         generate_series(1, greatest((SELECT requests FROM wanted)
                                     - (SELECT count(*) FROM bench_alerts)
                                     - (SELECT count(*) FROM bench_steps WHERE status = 'fired'),
                                     0)) AS g
), every AS (
    SELECT * FROM openers UNION ALL SELECT * FROM steps UNION ALL SELECT * FROM notifications
)
SELECT row_number() OVER () AS seq, e.*,
       width_bucket(random(), (SELECT cumulative FROM bench_scale)) AS first_channel
FROM every AS e;
ANALYZE bench_requests;

-- name: load_requests
INSERT INTO requests (id, kind, outcome, payload, routes, snapshot_id, received_at, updated_at,
                      alert_id, step_round, step_level, producer)
SELECT r.id, r.kind, 'routed',
       jsonb_build_object(
           'id', r.id, 'kind', r.kind, 'title', r.title, 'severity', r.severity,
           'message', 'Observed ' || lower(r.title) || ' for ' || (r.seq % 50 + 2)
                      || ' minutes; runbook https://runbooks.example.com/' || r.seq % 97,
           'labels', jsonb_build_object('team', (ARRAY['platform', 'payments', 'search'])[1 + r.seq % 3],
                                        'env', 'production')),
       '["audit", "default"]'::jsonb,
       'sha256:' || substr(md5('snapshot' || (extract(epoch FROM r.received_at)::bigint / 432000)), 1, 12),
       r.received_at, r.received_at, r.alert_id, r.step_round, r.step_level,
       CASE WHEN r.kind = 'alert' THEN 'alertmanager' ELSE 'default' END
FROM bench_requests AS r;

-- name: load_deliveries
-- 2 or 3 deliveries per request on distinct channels: the first by weight, the others the
-- next channels round the list (the rarest channel, last in the list, only ever first). None
-- is held for a digest: the daemon would send those digests while it is measured.
INSERT INTO deliveries (id, request_id, channel, channel_type, recipient, status, attempts,
                        last_error, latency_ms, template, rendered, provider_id, snapshot_id,
                        next_attempt_at, lease_until, created_at, updated_at)
SELECT gen_random_uuid(), d.request_id, s.channels[d.c], s.types[d.c],
       CASE s.recipients[d.c]
           WHEN 'person' THEN 'person-' || (random() ^ 2 * 1999)::int || '@company.com'
           WHEN 'phone' THEN '+1555' || lpad(((random() ^ 2 * 1999)::int)::text, 7, '0')
           WHEN 'exec' THEN 'exec-' || (random() * 9)::int || '@company.com'
           WHEN 'slack' THEN (ARRAY['#ops', '#ops', '#incidents', '#engineering'])[1 + d.seq % 4]
           ELSE '' END,
       d.status,
       CASE d.status WHEN 'delivered' THEN 1 + (random() < 0.05)::int + (random() < 0.01)::int
                     WHEN 'dead' THEN 5 WHEN 'retrying' THEN 1 + (random() * 3)::int
                     WHEN 'sending' THEN 1 + (random() * 3)::int ELSE 0 END,
       CASE WHEN d.status IN ('dead', 'retrying', 'sending')
            THEN (ARRAY['HTTP 503 from the provider', 'connection reset by peer',
                        'timed out after 10 s', 'HTTP 429: rate limited'])[1 + d.seq % 4] END,
       CASE WHEN d.status IN ('delivered', 'dead') THEN 40 + random() ^ 3 * 5000 END,
       CASE WHEN d.kind = 'alert' THEN 'incident_alert@1.0' END,
       jsonb_build_object('subject', '[' || upper(d.severity) || '] ' || d.title,
                          'text', d.title || ' — Observed ' || lower(d.title)
                                  || '; runbook https://runbooks.example.com/' || d.seq % 97,
                          'template', CASE WHEN d.kind = 'alert' THEN 'incident_alert@1.0' END,
                          'channel_type', s.types[d.c]),
       CASE WHEN d.status = 'delivered' THEN 'msg-' || d.seq || '-' || d.c END,
       'sha256:' || substr(md5('snapshot' || (extract(epoch FROM d.received_at)::bigint / 432000)), 1, 12),
       CASE WHEN d.status IN ('retrying', 'sending') THEN s.anchor + interval '1 day' END,
       CASE WHEN d.status = 'sending' THEN s.anchor + interval '1 day' END,
       d.received_at + interval '5 ms' * (d.j + 1),
       d.received_at + interval '5 ms' * (d.j + 1) + interval '1 second' * random()
FROM bench_scale AS s, LATERAL (
    SELECT r.id AS request_id, r.seq, r.kind, r.title, r.severity, r.received_at, j,
           CASE WHEN j = 0 THEN r.first_channel
                ELSE 1 + (r.first_channel - 1 + j) % (array_length(s.channels, 1) - 1) END AS c,
           CASE WHEN x < 0.860 THEN 'delivered' WHEN x < 0.880 THEN 'dead'
                WHEN x < 0.883 THEN 'retrying' WHEN x < 0.8835 THEN 'sending'
                WHEN x < 0.885 THEN 'queued' WHEN x < 0.925 THEN 'suppressed'
                WHEN x < 0.965 THEN 'deduplicated' WHEN x < 0.975 THEN 'digested'
                ELSE 'delivered' END AS status
    FROM bench_requests AS r,
         generate_series(0, (floor((r.seq) * 2.5) - floor((r.seq - 1) * 2.5))::int - 1) AS j,
         LATERAL (SELECT random() + 0 * j AS x) AS roll
) AS d;

-- name: load_events
-- A delivery's history as the daemon writes it: no event for one written delivered at its
-- first attempt (record_outcomes), else one per attempt, the last with its status.
INSERT INTO delivery_events (delivery_id, status, attempt, error, latency_ms, at)
SELECT d.id, CASE WHEN a < d.attempts THEN 'retrying' ELSE d.status END, a,
       CASE WHEN a < d.attempts OR d.status <> 'delivered' THEN d.last_error END,
       d.latency_ms, d.created_at + interval '30 seconds' * a
FROM deliveries AS d, generate_series(greatest(least(d.attempts, 1), 0), d.attempts) AS a
WHERE (d.status <> 'delivered' OR d.attempts > 1) AND (a > 0 OR d.attempts = 0);

-- name: load_dead_letters
INSERT INTO dead_letters (delivery_id, request_id, channel, recipient, error, attempts, dead_at,
                          retried_at)
SELECT id, request_id, channel, recipient, last_error, attempts, updated_at,
       CASE WHEN random() < 0.05 THEN updated_at + interval '1 hour' END
FROM deliveries WHERE status = 'dead';

-- name: load_dead_requests
INSERT INTO dead_requests (request_id, queue, raw, error, dead_at)
SELECT 'broken-' || g, 'notifierd:requests', '{"id": "broken-' || g || '", "title": "x"}',
       'template incident_alert@1.0 failed: undefined variable', s.anchor - random() * interval '30 days'
FROM bench_scale AS s, generate_series(1, 100) AS g;

-- name: load_alerts
INSERT INTO alerts (id, dedup_key, status, policy, title, severity, payload, occurrences,
                    snapshot_id, started_at, acknowledged_at, acknowledged_by, resolved_at,
                    resolved_by, updated_at, opened_by, routes, members)
SELECT a.id, a.dedup_key, a.status, a.policy, a.title, a.severity, r.payload, a.occurrences,
       r.snapshot_id, a.started_at, a.acknowledged_at,
       CASE WHEN a.acknowledged_at IS NOT NULL THEN 'person-' || a.n % 40 END,
       a.resolved_at, CASE WHEN a.resolved_at IS NOT NULL THEN 'alertmanager' END,
       coalesce(a.resolved_at, a.acknowledged_at, a.started_at), 'alertmanager',
       ARRAY['audit', 'critical-severity'],
       CASE WHEN a.n % 3 = 0 THEN (
           SELECT jsonb_agg(jsonb_build_object('alertname', 'HostDown', 'instance', 'host-' || m))
           FROM generate_series(1, 5 + a.n % 25) AS m) END
FROM bench_alerts AS a JOIN requests AS r ON r.id = a.id;

-- name: load_steps
INSERT INTO escalation_steps (alert_id, round, level, due_at, status, fired_at, fired_by)
SELECT alert_id, round, level, due_at, status,
       CASE WHEN status = 'fired' THEN due_at + interval '200 ms' END,
       CASE WHEN status = 'fired' THEN 'replica-1' END
FROM bench_steps;

-- name: load_alert_events
-- Triggered, each further occurrence, each fired step, then acknowledged and resolved.
INSERT INTO alert_events (alert_id, kind, actor, via, detail, at)
SELECT id, 'triggered', NULL, 'queue', 'request ' || id, started_at FROM bench_alerts
UNION ALL
SELECT a.id, 'occurrence', NULL, 'queue', 'request ' || a.id || '-' || o || ' (occurrence ' || o || ')',
       a.started_at + (coalesce(a.resolved_at, s.anchor) - a.started_at) * (o::float8 / (a.occurrences + 1))
FROM bench_alerts AS a, bench_scale AS s, generate_series(2, a.occurrences) AS o
UNION ALL
SELECT alert_id, 'escalated', NULL, 'escalation', 'level ' || level || ' (round ' || (round + 1) || ')',
       due_at + interval '200 ms'
FROM bench_steps WHERE status = 'fired'
UNION ALL
SELECT id, 'acknowledged', 'person-' || n % 40, 'slack', NULL, acknowledged_at
FROM bench_alerts WHERE acknowledged_at IS NOT NULL
UNION ALL
SELECT id, 'resolved', 'alertmanager', 'queue', NULL, resolved_at
FROM bench_alerts WHERE resolved_at IS NOT NULL;

-- name: load_audit
-- The audit log of the month: each acknowledgement (by a person, from Slack), the alerts people
-- resolved from the console (one in four), sign-ins (40 people, a few a day each, one in twenty
-- failed) and dead-letter retries: 18,000 rows. From the loaded alerts only, so that a database
-- loaded before this step existed gets it too (bench/console.py).
INSERT INTO audit_log (at, actor, action, target, via, origin, outcome, detail)
SELECT acknowledged_at, acknowledged_by, 'acknowledge', id, 'slack', 'slack', 'done', '{}'::jsonb
FROM alerts WHERE acknowledged_at IS NOT NULL
UNION ALL
SELECT resolved_at, acknowledged_by, 'resolve', id, 'console', '10.0.0.' || abs(hashtext(id)) % 250,
       'done', '{}'::jsonb
FROM alerts WHERE resolved_at IS NOT NULL AND abs(hashtext(id)) % 4 = 0
UNION ALL
SELECT m.newest - g * interval '432 seconds', 'person-' || g % 40, 'sign-in', NULL, 'console',
       '10.0.' || g % 7 || '.' || g % 250, CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'done' END,
       '{}'::jsonb
FROM (SELECT max(started_at) AS newest FROM alerts) AS m, generate_series(1, 6000) AS g
UNION ALL
SELECT m.newest - g * interval '144 minutes', 'person-' || g % 40, 'retry', 'req-' || g, 'console',
       '10.0.' || g % 7 || '.' || g % 250, 'done',
       jsonb_build_object('ids', jsonb_build_array('req-' || g), 'all', false, 'deliveries', 1,
                          'requests', 0)
FROM (SELECT max(started_at) AS newest FROM alerts) AS m, generate_series(1, 300) AS g;
