-- Who opened each alert, and the routes its opening request matched: what deciding whether a
-- producer may acknowledge or resolve it needs (notifierd.principals.refusal). Alerts opened
-- before this migration have no opener: only people with the operate role act on them.
ALTER TABLE alerts
    ADD COLUMN opened_by text,
    ADD COLUMN routes    text[] NOT NULL DEFAULT '{}';

-- The principal that sent a request over the HTTP API, written before the request is queued.
-- The queue carries only the request, whose fields any producer chooses; this row, which only
-- the daemon writes, is what the trigger reads as the alert's opener ('anonymous' without one).
-- The first writer of an id keeps it.
CREATE TABLE request_principals (
    request_id text PRIMARY KEY,
    principal  text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
