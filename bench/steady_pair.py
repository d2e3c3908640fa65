"""Benchmark: two checkouts' latency at a steady rate, measured at the same moment.

On a shared machine one tree after the other measures the neighbours as much as the code (the
same tree's p50 swings 3× from one minute to the next). This runs both trees' daemons at once —
each its own database, queue and key prefix, one shared sink (bench/sink.py) — and one driver
pushes a request to each in turn (which one first alternating), ``--rate`` per second each: the
two sides meet the same load, so their ratio is what the code changed. Per side: p50, p90, p99
and max enqueue-to-delivery latency, and the daemon's CPU per request over the steady stretch
(every worker; the two daemons share the cores, so absolute figures are a loaded machine's).

Each tree's daemon is the code of that tree (run from it, with PYTHONPATH set to it). Both get
``--warm-up`` requests before the steady stretch, delivered before it starts.

Usage: python bench/steady_pair.py BEFORE_TREE AFTER_TREE [--rate 500] [--seconds 10]
                                   [--rounds 3] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

# bench/ is a folder of scripts, not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cputime import cpu_seconds
from throughput import (
    ADMIN,
    CONFIG,
    REDIS_URL,
    create_database,
    daemon_pids,
    fill,
    load_average,
    paced,
    percentile,
    sink_count,
    start_sink,
)


@dataclass
class Side:
    """One tree's daemon: its database, key prefix and process."""

    db: str
    prefix: str
    process: subprocess.Popen[bytes] | None = None


def started(side: Side) -> subprocess.Popen[bytes]:
    assert side.process is not None
    return side.process


async def until_count(port: int, n: int, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while await sink_count(port) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {await sink_count(port):,} of {n:,} deliveries arrived")
        await asyncio.sleep(0.1)


async def one_round(
    trees: dict[str, Path], number: int, rate: int, seconds: float, warm_up: int, workers: int
) -> str:
    admin = await asyncpg.connect(ADMIN)
    redis = Redis.from_url(REDIS_URL)
    work = Path(tempfile.mkdtemp(prefix="notifierd-steady-pair-"))
    sink_out = work / "sink.jsonl"
    sink, port = start_sink(sink_out)
    sides: dict[str, Side] = {}
    n = int(rate * seconds)
    try:
        for name, tree in trees.items():
            config = work / name / "config"
            config.mkdir(parents=True)
            (config / "routes.yaml").write_text(CONFIG)
            db, url = await create_database(admin)
            prefix = f"bench:{uuid.uuid4().hex[:8]}"
            sides[name] = Side(db, prefix)
            await fill(redis, f"{prefix}:requests", warm_up, f"{name}-{number}-warm-")
            env = {
                **os.environ,
                "PYTHONPATH": str(tree),
                "REDIS_URL": REDIS_URL,
                "POSTGRES_URL": url,
                "SINK_URL": f"http://127.0.0.1:{port}/hook",
                "SINK_SECRET": "bench",
                "NOTIFIERD_LOG_FORMAT": "json",
            }
            sides[name].process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "notifierd",
                    "run",
                    "--config",
                    str(config),
                    "--queue",
                    f"{prefix}:requests",
                    "--key-prefix",
                    prefix,
                    "--no-watch",
                    "--log-level",
                    "WARNING",
                    *(["--workers", str(workers)] if workers else []),
                ],
                cwd=tree,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(work / name / "daemon.log", "wb"),  # noqa: SIM115 - the child keeps it
            )
        await until_count(port, warm_up * len(trees), "warm-up")
        await asyncio.sleep(1.0)
        load = load_average()
        names = list(trees)
        pids = {name: daemon_pids(started(sides[name]).pid) for name in names}
        cpu_before = {name: sum(cpu_seconds(p) for p in pids[name]) for name in names}

        async def push(i: int) -> None:
            for name in names if i % 2 == 0 else names[::-1]:
                request = {
                    "id": f"{name}-{number}-steady-{i}",
                    "title": "Steady",
                    "message": "steady-rate request",
                    "metadata": {"sent_at": time.time()},
                }
                await redis.lpush(f"{sides[name].prefix}:requests", json.dumps(request))

        achieved = await paced(rate, n, push)
        await until_count(port, (warm_up + n) * len(trees), "steady")
        cpu = {
            name: (sum(cpu_seconds(p) for p in pids[name]) - cpu_before[name]) / n * 1e6
            for name in names
        }
    finally:
        running = [side.process for side in sides.values() if side.process is not None]
        for process in running:
            process.terminate()
        for process in running:
            process.wait(60)
        sink.terminate()
        sink.wait(60)
        for side in sides.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{side.db}" WITH (FORCE)')
            keys = [k async for k in redis.scan_iter(match=f"{side.prefix}:*")]
            if keys:
                await redis.delete(*keys)
        await admin.close()
        await redis.aclose()
    records = [json.loads(line) for line in sink_out.read_text().splitlines()]
    shutil.rmtree(work, ignore_errors=True)
    out = [f"round {number} ({load}; {achieved:,.0f}/s each)"]
    for name in names:
        ms = [
            (r["at"] - r["sent_at"]) * 1000
            for r in records
            if r["id"].startswith(f"{name}-{number}-steady-")
        ]
        out.append(
            f"  {name}: {len(ms):,} requests: p50 {statistics.median(ms):.2f} ms, p90 "
            f"{percentile(ms, 0.9):.2f} ms, p99 {percentile(ms, 0.99):.2f} ms, max "
            f"{max(ms):.1f} ms; daemon CPU {cpu[name]:.0f} µs per request"
        )
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", type=Path, help="the checkout measured as 'before'")
    parser.add_argument("after", type=Path, help="the checkout measured as 'after'")
    parser.add_argument("--rate", type=int, default=500, help="requests per second, each side")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=0, help="0: the daemon's default")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():
        if not (tree / "notifierd" / "__init__.py").is_file():
            parser.error(f"{tree} is not a notifierd checkout")
    for number in range(1, args.rounds + 1):
        print(
            await one_round(trees, number, args.rate, args.seconds, args.warm_up, args.workers),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
