-- Who a schedule delivery paged (issue 18): the recipient stays `schedule:<id>`, so the delivery
-- id is keyed on the schedule; these say who it resolved to at its first attempt and where it
-- went. Retries and replays reuse them instead of resolving again, so a handoff between two
-- attempts never moves a page to someone else. resolved_via: what decided (`layer weekly`,
-- `override (holiday swap)`, `fallback`, or `nobody on call`). Nullable, no default: no rewrite.
ALTER TABLE deliveries
    ADD COLUMN resolved_person text,
    ADD COLUMN resolved_via text,
    ADD COLUMN resolved_address text;

-- Handoff notices (a schedule's `notify_handoff`): one row per shift told. The key is the
-- schedule and the instant the shift began, so of all the replicas noticing the same handoff one
-- inserts the row and sends the notice; the others find it taken.
CREATE TABLE handoff_notices (
    schedule_id text NOT NULL,
    shift_start timestamptz NOT NULL,
    person      text NOT NULL,
    request_id  text NOT NULL,
    noticed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, shift_start)
);
