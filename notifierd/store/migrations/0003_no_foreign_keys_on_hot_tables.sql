-- Drop the foreign keys of the rows written for every delivery and every alert step.
--
-- Each key cost a row lock on its parent per inserted row (a check trigger running
-- SELECT ... FOR KEY SHARE), which measured as half of Postgres' CPU per recorded request.
-- Integrity does not depend on them: a request, its deliveries and their events are written in
-- one transaction by the recorder, an alert with its steps and first event in one statement, and
-- retention deletes children and parents together (queries/retention.sql).
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_request_id_fkey;
ALTER TABLE delivery_events DROP CONSTRAINT IF EXISTS delivery_events_delivery_id_fkey;
ALTER TABLE escalation_steps DROP CONSTRAINT IF EXISTS escalation_steps_alert_id_fkey;
ALTER TABLE alert_events DROP CONSTRAINT IF EXISTS alert_events_alert_id_fkey;
