-- Searching deliveries page by page (GET /api/v1/deliveries, `notifierd history`): newest
-- first with the (created_at, id) of the last row as the keyset, so the order needs both
-- columns in one index; deliveries_created_at (created_at alone) is what that index starts
-- with, so it goes. A search by recipient reads its own index in the same order.
-- EXPLAIN ANALYZE over 100,000 deliveries (query search_deliveries, 51 rows): first page
-- 0.5 ms and page 1,000 by cursor 0.2 ms (deliveries_newest backwards, the cursor an index
-- condition), a recipient 0.6 ms (deliveries_recipient_newest), a request id 0.08 ms (the
-- unique index), a channel and status filtered along deliveries_newest 9 ms for a 1% status;
-- a title substring checks each request on the way, 68 ms to find 51 of 100,000 — kept
-- without a trigram index (pg_trgm is an extension not every Postgres has).
CREATE INDEX deliveries_newest ON deliveries (created_at, id);
CREATE INDEX deliveries_recipient_newest ON deliveries (recipient, created_at, id);
DROP INDEX IF EXISTS deliveries_created_at;
