"""Benchmark: the daemon's throughput, latency at a steady rate, and memory, every delivery recorded.

1. burst: pre-fills the queue with N requests (default 50,000) routed to one webhook channel that
   points at a fast local sink (bench/sink.py), starts `notifierd run`, and reports requests/s from
   the first to the last delivery at the sink, and until the last one is recorded in Postgres;
2. steady: pushes requests at a fixed rate (default 500/s for 20 s) carrying their send time, and
   reports p50/p99/max enqueue-to-delivery latency measured at the sink;
3. the daemon's peak RSS (VmHWM) over both.
Uses the local Redis and Postgres (REDIS_URL / NOTIFIERD_BENCH_PG_ADMIN); its own database and keys.
Usage: python bench/throughput.py [--workers CORES] [--requests 50000] [--rate 500] [--seconds 20]
                                 [--log-level WARNING] [--profile FILE [--profile-seconds 8]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
ADMIN = os.environ.get("NOTIFIERD_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CONFIG = """\
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
routes:
  - name: default
    channels: [sink]
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def daemon_pids(pid: int, workers: int) -> list[int]:
    """The processes that do the work: the daemon itself, or the supervisor's workers."""
    if workers == 1:
        return [pid]
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on the machine (backends, WAL writer, checkpointer)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            if "(postgres)" in stat:
                total += cpu_seconds(int(entry))
        except OSError:
            continue
    return total


class CpuShare:
    """CPU the daemon(s) and Postgres spent per request over a stretch of the burst: a figure
    that, unlike requests/s, does not move when a shared machine's other tenants do."""

    def __init__(self, pids: list[int], delivered: int) -> None:
        self.pids = pids
        self.delivered = delivered
        self.daemon = sum(cpu_seconds(p) for p in pids)
        self.postgres = postgres_cpu_seconds()

    def report(self, delivered: int) -> str:
        n = delivered - self.delivered
        daemon = sum(cpu_seconds(p) for p in self.pids) - self.daemon
        postgres = postgres_cpu_seconds() - self.postgres
        return (
            f"CPU per request over {n:,} burst deliveries: daemon {daemon / n * 1e6:.0f} µs, "
            f"Postgres {postgres / n * 1e6:.0f} µs"
        )


def start_profiler(pid: int, out: str, seconds: float) -> None:
    """py-spy (in the benchmark's venv, or on PATH) sampling ``pid`` and its children."""
    subprocess.Popen(
        [
            shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy",
            "record",
            "--subprocesses",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "200",
            "--format",
            "raw",
            "-o",
            out,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def create_database(admin: asyncpg.Connection) -> tuple[str, str]:
    """A database of the benchmark's own: (name, URL)."""
    db = f"notifierd_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{db}"')
    return db, ADMIN.rsplit("/", 1)[0] + "/" + db


def start_sink(out: Path) -> tuple[subprocess.Popen[bytes], int]:
    """bench/sink.py on a free port, writing what it received to ``out`` when stopped."""
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "sink.py"), "--out", str(out)],
        stdout=subprocess.PIPE,
    )
    assert sink.stdout is not None
    return sink, int(sink.stdout.readline())


async def fill(redis: Redis, queue: str, n: int) -> None:
    for start in range(0, n, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(n, start + 5000)):
                pipe.lpush(
                    queue,
                    json.dumps(
                        {
                            "id": f"burst-{i}",
                            "title": "Benchmark",
                            "message": f"burst request {i}",
                            "tags": ["bench"],
                        }
                    ),
                )
            await pipe.execute()


async def sink_count(port: int) -> int:
    """Deliveries the sink has seen (asking it is free; counting rows in Postgres is not)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /count HTTP/1.1\r\nHost: sink\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    data = await reader.read(200)
    writer.close()
    return int(data.split(b"\r\n\r\n", 1)[1])


async def wait_recorded(conn: asyncpg.Connection, prefix: str, n: int) -> None:
    while await count_delivered(conn, prefix) < n:
        await asyncio.sleep(0.5)


async def count_delivered(conn: asyncpg.Connection, prefix: str) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE status = 'delivered' AND request_id LIKE $1",
            prefix + "%",
        )
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="sample the daemon (every worker) with py-spy from its first delivery and write "
        "collapsed stacks (raw format: one stack and its sample count a line)",
    )
    parser.add_argument(
        "--profile-seconds",
        type=float,
        default=8.0,
        help="how long --profile samples (keep it under the burst's drain time)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="the daemon's --log-level (its default, INFO, writes a JSON line per request)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="notifierd run --workers N: daemon processes sharing the queue "
        "(default: one per core, as the README advises)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="notifierd-throughput-"))
    (work / "config").mkdir()
    (work / "config" / "routes.yaml").write_text(CONFIG)
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
        "SINK_SECRET": "bench",
        "NOTIFIERD_LOG_FORMAT": "json",
    }
    daemon: subprocess.Popen[bytes] | None = None
    try:
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"notifierd run --workers {args.workers} --log-level {args.log_level}"
        )
        await fill(redis, f"{prefix}:requests", args.requests)
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
                "--workers",
                str(args.workers),
                "--no-watch",
                "--log-level",
                args.log_level,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "daemon.log", "wb"),  # noqa: SIM115 - the child keeps it open
        )
        conn = None
        while conn is None:
            try:
                conn = await asyncpg.connect(pg_url)
                await conn.fetchval("SELECT count(*) FROM deliveries")
            except (asyncpg.UndefinedTableError, OSError):
                conn = None
                await asyncio.sleep(0.2)
        share: CpuShare | None = None
        while (seen := await sink_count(port)) < args.requests:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon died: {(work / 'daemon.log').read_text()[-2000:]}")
            if share is None and seen > 0:
                share = CpuShare(daemon_pids(daemon.pid, args.workers), seen)
                if args.profile:  # from the first delivery: the drain, not the start-up
                    start_profiler(daemon.pid, args.profile, args.profile_seconds)
            await asyncio.sleep(0.05)
        cpu = share.report(args.requests) if share is not None else "CPU per request: n/a"
        await wait_recorded(conn, "burst-", args.requests)
        recorded_at = time.time()
        # When the last burst delivery was written (its transaction's time; commit follows).
        last_recorded = (
            await conn.fetchval(
                "SELECT max(created_at) FROM deliveries WHERE request_id LIKE 'burst-%'"
            )
        ).timestamp()

        # Steady rate: one request every 1/rate s, each carrying its send time.
        interval = 1 / args.rate
        n_steady = int(args.rate * args.seconds)
        t0 = time.perf_counter()
        for i in range(n_steady):
            delay = t0 + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await redis.lpush(
                f"{prefix}:requests",
                json.dumps(
                    {
                        "id": f"steady-{i}",
                        "title": "Steady",
                        "message": "steady-rate request",
                        "metadata": {"sent_at": time.time()},
                    }
                ),
            )
        achieved = n_steady / (time.perf_counter() - t0)
        while await sink_count(port) < args.requests + n_steady:
            await asyncio.sleep(0.05)
        await wait_recorded(conn, "steady-", n_steady)
        rss = [peak_rss_mib(p) for p in daemon_pids(daemon.pid, args.workers)]
        await conn.close()
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(60)
        sink.terminate()
        sink.wait(60)
        await redis.aclose()

    records = [json.loads(line) for line in sink_out.read_text().splitlines()]
    burst = [r["at"] for r in records if r["id"].startswith("burst-")]
    steady = [(r["at"] - r["sent_at"]) * 1000 for r in records if r["id"].startswith("steady-")]
    span = max(burst) - min(burst)
    span_recorded = last_recorded - min(burst)
    duplicates = len(burst) - len({r["id"] for r in records if r["id"].startswith("burst-")})
    print(
        f"burst: {args.requests:,} requests, first to last delivery {span:.2f}s = "
        f"{args.requests / span:,.0f} requests/s; first delivery to last recorded in Postgres "
        f"{span_recorded:.2f}s = {args.requests / span_recorded:,.0f}/s; start of the daemon to "
        f"all recorded {recorded_at - started:.2f}s; {duplicates} duplicate deliveries"
    )
    print(
        f"steady: {n_steady:,} requests at {achieved:,.0f}/s: enqueue-to-delivery p50 "
        f"{statistics.median(steady):.1f} ms, p99 {percentile(steady, 0.99):.1f} ms, max {max(steady):.1f} ms"
    )
    print(cpu)
    print(
        f"daemon peak RSS: {max(rss):.0f} MiB"
        + (f" (largest of {len(rss)} workers; {sum(rss):.0f} MiB together)" if len(rss) > 1 else "")
    )
    admin_cleanup = await asyncpg.connect(ADMIN)
    await admin_cleanup.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await admin_cleanup.close()
    await admin.close()
    redis2 = Redis.from_url(REDIS_URL)
    keys = [k async for k in redis2.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis2.delete(*keys)
    await redis2.aclose()


if __name__ == "__main__":
    asyncio.run(main())
