-- The producer whose own queue a request came from (notifierd.request.Request.producer); NULL
-- for the default queue (the anonymous producer) and for what the daemon sends itself. The
-- intake sets it from the list it took the request from, never from the request's JSON, so a
-- producer cannot claim another's name. The first writer of an id keeps it: a replay comes
-- from the same queue, and another producer reusing the id does not rewrite whose it was.
-- 0008, not 0007: the principals work adds 0007 (alerts.opened_by, request_principals).
ALTER TABLE requests ADD COLUMN producer text;
