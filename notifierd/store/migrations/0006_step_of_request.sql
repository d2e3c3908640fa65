-- An escalation step's notification names its step in columns: the alert, the round (0-based,
-- as in escalation_steps) and the level. Until now they were read back from the request id,
-- "<alert>:r<round>l<level>" (round 1-based), with a regex in Python and rebuilt with string
-- concatenation in SQL; now the id is only a name, built once (store.records.StepRef).
--
-- Existing step notifications are filled in from their ids once, here. Slack buttons already
-- sent carry such ids: AlertStore.find resolves them through these columns like new ones. Only
-- ids whose step exists count, so a request that merely looks like one (a producer's id
-- "deploy:r1l2") stays a plain request. The scan of requests is one pass; new columns without
-- a default cost no rewrite.
ALTER TABLE requests
    ADD COLUMN alert_id   text,
    ADD COLUMN step_round integer,
    ADD COLUMN step_level integer;

UPDATE requests AS r
SET alert_id = s.alert_id, step_round = s.round, step_level = s.level
FROM (
    SELECT id, m[1] AS alert_id, m[2]::int - 1 AS round, m[3]::int AS level
    FROM (SELECT id, regexp_match(id, '^(.+):r([0-9]+)l([0-9]+)$') AS m FROM requests
          WHERE id ~ ':r[0-9]+l[0-9]+$') AS parsed
) AS s
WHERE r.id = s.id
  AND EXISTS (SELECT 1 FROM escalation_steps AS e
              WHERE e.alert_id = s.alert_id AND e.round = s.round AND e.level = s.level);

-- An alert's step notifications (follow-ups find where the alert was told).
CREATE INDEX requests_alert_step ON requests (alert_id) WHERE alert_id IS NOT NULL;
