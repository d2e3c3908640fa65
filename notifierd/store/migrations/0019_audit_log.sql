-- The audit log: every action a person or producer took (sign-in, acknowledge, resolve,
-- escalate, retry, silence, override, reload), who, when, from where (an address, or the
-- channel: queue, Slack, CLI) and whether it was allowed. Append-only; retention prunes it.
-- `dedup`: one row for what several replicas or workers each do (a config activated by a file
-- change), NULL for everything a single caller did.
CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    target   text,
    via      text NOT NULL,
    origin   text,
    outcome  text NOT NULL,
    detail   jsonb NOT NULL DEFAULT '{}'::jsonb,
    dedup    text UNIQUE
);
-- Newest first, whole or by one actor or action: the console's and `notifierd audit`'s reads.
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, at DESC, id DESC);
