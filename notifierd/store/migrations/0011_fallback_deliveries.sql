-- Fallback on dead letter (routes.yaml: a channel's `fallback:`). A delivery made because
-- another died names it (fallback_of); the dead one names what was sent instead (fallbacks).
--
-- The fallback rows are written in the same transaction as the dead one's outcome, as
-- `retrying` rows due at once: the retrier sends them, so a crash between the dead letter and
-- the fallback loses nothing, and their ids (one per request, channel and recipient, as every
-- delivery's) make a replay write nothing new. Plain nullable columns: adding them rewrites no
-- row, and only the status of one request reads them (no index).
ALTER TABLE deliveries ADD COLUMN fallback_of uuid, ADD COLUMN fallbacks uuid[];
