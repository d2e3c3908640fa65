-- "Escalate now": a person may bring an alert's next level forward. The step they brought
-- forward names them, so the timeline and the page itself can say who asked, and so a second
-- request arriving before that step has fired joins it instead of skipping a further level.
-- A new nullable column without a default costs no table rewrite.
ALTER TABLE escalation_steps ADD COLUMN requested_by text;
