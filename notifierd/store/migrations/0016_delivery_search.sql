-- Searching deliveries page by page (GET /api/v1/deliveries, `notifierd history`): newest
-- first with the (created_at, id) of the last row as the keyset, so the order needs both
-- columns in one index; deliveries_created_at (created_at alone) is what that index starts
-- with, so it goes. A search by recipient reads its own index in the same order.
CREATE INDEX deliveries_newest ON deliveries (created_at, id);
CREATE INDEX deliveries_recipient_newest ON deliveries (recipient, created_at, id);
DROP INDEX IF EXISTS deliveries_created_at;
