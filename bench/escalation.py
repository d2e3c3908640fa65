"""Benchmark: many open alerts escalating at once.

Pushes N alert triggers (default 100,000, distinct dedup keys) routed to a webhook sink with a
two-level policy (level 1 at once, level 2 after --level2), runs `notifierd run`, and reports:
trigger intake rate (alerts opened per second), how late each level-2 step fired against its due
time (p50, p99, max: when the message reached the sink, and when Postgres recorded the step as
fired after storing its delivery, each minus the step's due time), whether every step
fired exactly once (Postgres rows and what the sink received), and the daemon's peak RSS.
Usage: python bench/escalation.py [--alerts 100000] [--level2 60s]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import (
    ADMIN,
    REDIS_URL,
    create_database,
    peak_rss_mib,
    percentile,
    sink_count,
    start_sink,
)

ROUTES = """\
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: two-level
"""
POLICY = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: %s, channels: [sink]}
"""


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--level2", default="60s")
    args = parser.parse_args()
    n = args.alerts

    work = Path(tempfile.mkdtemp(prefix="notifierd-escalation-"))
    (work / "config" / "policies").mkdir(parents=True)
    (work / "config" / "routes.yaml").write_text(ROUTES)
    (work / "config" / "policies" / "two-level.yaml").write_text(POLICY % args.level2)
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN)
    db, pg_url = await create_database(admin)
    redis = Redis.from_url(REDIS_URL)
    sink_out = work / "sink.jsonl"
    sink, port = start_sink(sink_out)
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "POSTGRES_URL": pg_url,
        "SINK_URL": f"http://127.0.0.1:{port}/hook",
    }
    daemon = None
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    try:
        for start in range(0, n, 5000):
            async with redis.pipeline(transaction=False) as pipe:
                for i in range(start, min(n, start + 5000)):
                    pipe.lpush(
                        f"{prefix}:requests",
                        json.dumps(
                            {
                                "id": f"alert-{i}",
                                "kind": "alert",
                                "title": f"Alert {i}",
                                "message": "benchmark",
                                "severity": "critical",
                                "dedup_key": f"key-{i}",
                            }
                        ),
                    )
                await pipe.execute()
        started = time.time()
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "notifierd",
                "run",
                "--config",
                str(work / "config"),
                "--queue",
                f"{prefix}:requests",
                "--key-prefix",
                prefix,
                "--workers",  # one process: its peak RSS is the figure (the default runs more)
                "1",
                "--no-watch",
                "--log-level",
                "WARNING",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "daemon.log", "wb"),  # noqa: SIM115 - the child keeps it open
        )
        conn = None
        while conn is None:
            try:
                conn = await asyncpg.connect(pg_url)
                await conn.fetchval("SELECT count(*) FROM escalation_steps")
            except (asyncpg.UndefinedTableError, OSError):
                conn = None
                await asyncio.sleep(0.2)
        opened_at = None
        while True:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon died: {(work / 'daemon.log').read_text()[-2000:]}")
            if opened_at is None and await conn.fetchval("SELECT count(*) FROM alerts") >= n:
                opened_at = time.time()
            if (
                opened_at is not None
                and await conn.fetchval(
                    "SELECT count(*) FROM escalation_steps WHERE status = 'fired'"
                )
                >= 2 * n
            ):
                break
            await asyncio.sleep(1)
        rss = peak_rss_mib(daemon.pid)
        while await sink_count(port) < 3 * n:  # the route's notification, then levels 1 and 2
            await asyncio.sleep(0.5)
        rows = await conn.fetch(
            "SELECT alert_id, extract(epoch FROM due_at) AS due, "
            "extract(epoch FROM fired_at - due_at) AS late FROM escalation_steps WHERE level = 2"
        )
        late = [float(r["late"]) for r in rows]
        due = {f"{r['alert_id']}:r1l2": float(r["due"]) for r in rows}
        step_deliveries = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE request_id LIKE '%:r1l_'"
        )
        await conn.close()
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(60)
        sink.terminate()
        sink.wait(120)
        await redis.aclose()
    received = [json.loads(line) for line in sink_out.read_text().splitlines()]
    ids = [r["id"] for r in received]
    level2 = [i for i in ids if i.endswith(":r1l2")]
    # When the level-2 message reached the channel: the moment that matters to whoever is paged.
    at_sink = [r["at"] - due[r["id"]] for r in received if r["id"] in due]
    print(
        f"{n:,} alerts: all opened {opened_at - started:.1f}s after start = {n / (opened_at - started):,.0f} "
        "triggers/s (each: alert row, 2 planned steps, route notification)"
    )
    print(
        f"level-2 lateness, message at the channel minus due: p50 {percentile(at_sink, 0.5):.3f}s  "
        f"p99 {percentile(at_sink, 0.99):.3f}s  max {max(at_sink):.3f}s over {len(at_sink):,} steps"
    )
    print(
        f"level-2 lateness, step recorded as fired (after its delivery was stored) minus due: "
        f"p50 {percentile(late, 0.5):.3f}s  p99 {percentile(late, 0.99):.3f}s  "
        f"max {max(late):.3f}s"
    )
    print(
        f"exactly once: {step_deliveries:,} step deliveries in Postgres for {2 * n:,} steps; sink got "
        f"{len(level2):,} level-2 messages, {len(set(level2)):,} distinct; "
        f"{len(ids) - len(set(ids))} duplicates overall"
    )
    print(f"daemon peak RSS: {rss:.0f} MiB")
    cleanup = await asyncpg.connect(ADMIN)
    await cleanup.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await cleanup.close()
    await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
