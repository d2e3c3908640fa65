-- The console's searches over a month of history (issue 21 §5). bench/console.py measures them
-- with 1,000,000 deliveries and 10,000 alerts; bench/README.md has the plans, before and after.
--
-- A title (search_deliveries $2) was a substring matched in every request's title one by one
-- along deliveries_newest: 18-26 s for a rare word, as long for one found nowhere. A trigram
-- index finds the requests whose title holds the words first; the query asks with LIKE on the
-- same expression so that the index applies (a common word still goes along deliveries_newest,
-- which finds a page sooner). pg_trgm ships with PostgreSQL (Debian's postgresql-15, the
-- official images) and is a trusted extension: the database's owner may create it without
-- being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX requests_title_trgm ON requests USING gin (lower(payload ->> 'title') gin_trgm_ops);

-- A channel filter is a channel name or a type (`channel = $3 OR channel_type = $3`): without
-- an index on the type, the OR left only deliveries_newest to walk, 3.6 s to fill a page of a
-- channel with 0.02 % of the deliveries. With it, a rare one is the union of both indexes'
-- rows, sorted; a common one still walks deliveries_newest. B-tree deduplication keeps an
-- index of a handful of types small.
CREATE INDEX deliveries_channel_type ON deliveries (channel_type);

-- Statuses other than delivered (88 % of deliveries, written final at once) in the order a
-- search reads them: a page of retrying (0.3 %) or dead (2 %) deliveries, alone or with other
-- filters, reads its own rows instead of walking past the delivered ones. Partial, so the
-- writes of delivered deliveries do not maintain it.
CREATE INDEX deliveries_status_newest ON deliveries (status, created_at, id)
    WHERE status NOT IN ('delivered', 'dry_run');

-- An alert by dedup key (find_alert: `id = $1 OR dedup_key = $1`): alerts_open_dedup_key holds
-- only open alerts, so the OR scanned every alert.
CREATE INDEX alerts_dedup_key ON alerts (dedup_key);

-- The open alerts, newest first: what the console shows first and counts (count_open_alerts,
-- alert_gauges) — a few hundred entries however many resolved alerts the table keeps.
CREATE INDEX alerts_open_newest ON alerts (started_at) WHERE status <> 'resolved';

-- Building these indexes holds writes to requests, deliveries and alerts for as long as it
-- takes (19 s for 400,000 requests and 1,000,000 deliveries on the development machine, 16 s
-- of it the trigram index): migrate at a quiet moment. What they cost each write: bench/README.md (bench/console_writes.py).
