-- Requests whose processing failed for a reason other than Redis or Postgres being away (a bug,
-- or rows Postgres refuses): the request-level dead-letter queue, beside the deliveries' own.
--
-- The raw request is kept as it came (as text Postgres accepts) with the queue it came from, so
-- `notifierd dlq retry` can put it back there; its `requests` row says `error` with the reason.
-- No foreign key (see 0003): retention deletes these rows with their request.
CREATE TABLE dead_requests (
    request_id  text PRIMARY KEY,
    queue       text NOT NULL,
    raw         text NOT NULL,
    error       text NOT NULL,
    dead_at     timestamptz NOT NULL DEFAULT now(),
    retried_at  timestamptz                        -- set when `dlq retry` requeued it
);
CREATE INDEX dead_requests_dead_at ON dead_requests (dead_at);
