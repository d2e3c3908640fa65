-- Alerts, their timelines and their pending escalation steps (Postgres is the source of truth).

CREATE TABLE alerts (
    id              text PRIMARY KEY,             -- the id of the request that opened it
    dedup_key       text NOT NULL,
    status          text NOT NULL,                -- triggered, acknowledged, resolved
    policy          text,                         -- escalation policy id, if any
    title           text,
    severity        text,
    payload         jsonb NOT NULL,               -- the opening request: escalation steps resend it
    occurrences     integer NOT NULL DEFAULT 1,   -- triggers that joined it, the first included
    snapshot_id     text,
    started_at      timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at     timestamptz,
    resolved_by     text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- At most one open alert per dedup key: a second trigger joins it.
CREATE UNIQUE INDEX alerts_open_dedup_key ON alerts (dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_started_at ON alerts (started_at);

CREATE TABLE alert_events (
    id       bigserial PRIMARY KEY,
    alert_id text NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    kind     text NOT NULL,                       -- triggered, occurrence, escalated, step_skipped, acknowledged, resolved
    actor    text,
    via      text,                                -- queue, cli, http, slack, escalation
    detail   text,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);

CREATE TABLE escalation_steps (
    alert_id    text NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    round       integer NOT NULL,                 -- 0 for the first pass, 1.. for repeats
    level       integer NOT NULL,                 -- 1-based, as people count levels
    due_at      timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'pending',  -- pending, firing, fired, cancelled, skipped
    lease_until timestamptz,                      -- a firing claim; expires if its replica dies
    fired_at    timestamptz,
    fired_by    text,
    PRIMARY KEY (alert_id, round, level)
);
-- Two partial indexes, one per claim: each claim is then an index range scan, however many steps wait.
CREATE INDEX escalation_steps_pending ON escalation_steps (due_at) WHERE status = 'pending';
CREATE INDEX escalation_steps_firing ON escalation_steps (lease_until) WHERE status = 'firing';
