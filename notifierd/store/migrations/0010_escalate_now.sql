-- "Escalate now": a person may bring an alert's next level forward. The step they brought
-- forward names them and when they asked, so the timeline and the page itself say who asked, and
-- a second request soon after (two people pressing Escalate on the same message) joins that
-- step instead of paging a further level. New nullable columns without a default cost no
-- table rewrite.
ALTER TABLE escalation_steps
    ADD COLUMN requested_by text,
    ADD COLUMN requested_at timestamptz;
