-- The requests an Alertmanager or Grafana webhook payload became (issue 19 §1, §2). A sender
-- re-sends a group's current alerts on every repeat, and retries until it gets a 2xx; the row,
-- keyed by the id derived from the payload (group key, fingerprint, status, startsAt), is what
-- makes the second copy a no-op. It is written, with the request itself, in one transaction
-- before the HTTP answer; queued_at is set once the request is on the Redis queue, so a payload
-- re-sent after Redis refused it queues what is still unqueued, and nothing twice.
CREATE TABLE webhook_requests (
    id          text PRIMARY KEY,
    source      text NOT NULL,                 -- alertmanager, grafana
    payload     jsonb NOT NULL,                -- the request as queued
    principal   text NOT NULL,                 -- who posted it
    received_at timestamptz NOT NULL DEFAULT now(),
    queued_at   timestamptz
);
CREATE INDEX webhook_requests_unqueued ON webhook_requests (received_at) WHERE queued_at IS NULL;
