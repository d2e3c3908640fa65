-- Heartbeats (routes.yaml `heartbeats:`): one row per heartbeat name, its last beat and whether
-- it is late. A heartbeat the config names gets its row on the first maintenance pass that sees
-- it (`since`: from then on it is expected), or on its first beat.
--
-- Going late is one conditional UPDATE (state 'ok' -> 'late', compared with Postgres' now()):
-- of replicas racing on the same late heartbeat one row update wins and that replica alone opens
-- the alert; the beat that finds the row 'late' resolves it, under the row lock.
CREATE TABLE heartbeats (
    name       text PRIMARY KEY,
    since      timestamptz NOT NULL DEFAULT now(),  -- first expected from (config or first beat)
    last_beat  timestamptz,
    beats      bigint NOT NULL DEFAULT 0,
    state      text NOT NULL DEFAULT 'ok',          -- ok, late (status.HeartbeatState)
    late_since timestamptz,
    alert_id   text                                 -- the alert the last lateness opened
);
