-- Digest instead of delay (a rate limit's `overflow: digest`). A delivery held by such a limit
-- longer than its digest_after waits here as `held`; the digester claims the held deliveries
-- of one channel and recipient (SKIP LOCKED), sends one digest message, and in the same
-- transaction records the digest as a delivery of its own and each original as `digested`,
-- naming it (digested_into). A plain nullable column: adding it rewrites no row.
ALTER TABLE deliveries ADD COLUMN digested_into uuid;
-- The digester's claim reads held deliveries by channel, oldest first; few rows are ever held.
CREATE INDEX deliveries_held ON deliveries (channel, recipient, created_at) WHERE status = 'held';
