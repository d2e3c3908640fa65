-- Due retries are claimed per channel (each channel's retries have their own room, so a
-- receiver that never answers holds back only its own): the claim walks this index per channel.
CREATE INDEX deliveries_due_by_channel ON deliveries (channel, next_attempt_at)
    WHERE status IN ('retrying', 'sending');
DROP INDEX IF EXISTS deliveries_due;
