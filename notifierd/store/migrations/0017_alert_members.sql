-- An alert's roster: what it stands for (an Alertmanager group's alerts), as its producer last
-- described it (a request's `members`). A trigger that joins, or an update, compares its roster
-- with this one under the row lock and tells the people already told only what changed, once;
-- NULL until a request names members. Kept on the alert row, not one row per member: a group
-- is tens of alerts, read and replaced whole.
ALTER TABLE alerts ADD COLUMN members jsonb;
