"""The console's live-updates poll (issue 21 §5): what one poll costs Postgres.

Fills a database of its own with 10,000 alerts (3 escalation steps each, the first fired) and
times the one query the poller runs each second (``alerts_changed_since``) while nothing
changed, and after 100 alerts changed within the last second; prints the query plans.
However many browsers watch, a daemon process runs this query at most once a second.

    python bench/console_live.py [--alerts 10000] [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

import asyncpg
from throughput import ADMIN, create_database

from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store
from notifierd.store.queries import q


async def fill(pool: asyncpg.Pool, alerts: int) -> None:
    """Alerts started over the last 30 days, each with 3 steps, level 1 fired at its start."""
    await pool.execute(
        """
        INSERT INTO alerts (id, dedup_key, status, title, severity, payload, started_at, updated_at)
        SELECT 'a-' || n, 'k-' || n, (ARRAY['triggered', 'acknowledged', 'resolved'])[1 + n % 3],
               'alert ' || n, 'critical', '{}'::jsonb, t, t
        FROM generate_series(1, $1) AS n,
             LATERAL (SELECT now() - interval '30 days' * random() - interval '1 minute' AS t) AS s
        """,
        alerts,
    )
    await pool.execute(
        """
        INSERT INTO escalation_steps (alert_id, round, level, due_at, status, fired_at)
        SELECT a.id, 0, l, a.started_at + make_interval(mins => 5 * (l - 1)),
               CASE WHEN l = 1 THEN 'fired' ELSE 'pending' END,
               CASE WHEN l = 1 THEN a.started_at END
        FROM alerts AS a, generate_series(1, 3) AS l
        """
    )
    await pool.execute("ANALYZE alerts; ANALYZE escalation_steps")


async def timed(store: AlertStore, after_seconds: float, runs: int) -> tuple[float, float, int]:
    """(median ms, p95 ms, alerts found) of polls looking ``after_seconds`` back."""
    now = await store.pool.fetchval("SELECT now()")
    took, found = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        changes = await store.changed_since(now - timedelta(seconds=after_seconds))
        took.append((time.perf_counter() - start) * 1000)
        found = len(changes.alerts)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95) - 1], found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    admin = await asyncpg.connect(ADMIN)
    db, url = await create_database(admin)
    try:
        store = await Store.connect(url, min_size=1, max_size=2)
        try:
            await fill(store.pool, args.alerts)
            alerts = AlertStore(store.pool)
            median, p95, found = await timed(alerts, 5, args.runs)
            print(
                f"{args.alerts:,} alerts, nothing changed: median {median:.2f} ms, p95 {p95:.2f} ms ({found} found)"
            )
            await store.pool.execute(
                "UPDATE alerts SET updated_at = now() WHERE id IN "
                "(SELECT id FROM alerts ORDER BY random() LIMIT 100)"
            )
            median, p95, found = await timed(alerts, 5, args.runs)
            print(
                f"{args.alerts:,} alerts, 100 changed: median {median:.2f} ms, p95 {p95:.2f} ms ({found} found)"
            )
            plan = await store.pool.fetch(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + q("alerts_changed_since"),
                await store.pool.fetchval("SELECT now() - interval '5 seconds'"),
                1000,
            )
            print("\n".join(row[0] for row in plan))
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
