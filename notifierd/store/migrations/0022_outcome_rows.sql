-- The rows record_outcomes takes: a batch's requests and its deliveries' outcomes, each as one
-- array of these records instead of an array per column. asyncpg checks every element of an
-- array parameter against collections.abc (a Python call, ~0.3-0.6 µs, once or twice per
-- element): with a column per field that was ~20 checks per delivery, most of the worker's
-- cost of a batch write; an array of records checks each row once (bench/README.md). The
-- fields are the columns' values as the statement casts them (payload, routes and rendered are
-- JSON text). The tables are unchanged, so a daemon of the version before writes as it did.
-- Never ALTER these types: a daemon of this version still running (a rolling upgrade) sends
-- rows of the fields it knows, and Postgres would refuse every batch it writes. A new field is
-- a new type (request_outcome_2, ...), and the old one is dropped a release later.
CREATE TYPE request_outcome AS (
    id text,
    kind text,
    outcome text,
    reason text,
    payload text,
    routes text,
    snapshot_id text,
    received_at timestamptz,
    alert_id text,
    step_round int,
    step_level int,
    producer text
);

CREATE TYPE delivery_outcome AS (
    id uuid,
    request_id text,
    channel text,
    channel_type text,
    recipient text,
    status text,
    attempts int,
    last_error text,
    latency_ms float8,
    template text,
    note text,
    rendered text,
    provider_id text,
    snapshot_id text,
    next_attempt_at timestamptz,
    resolved_person text,
    resolved_via text,
    resolved_address text
);
