"""Benchmark: the daemon's throughput, latency at a steady rate, and memory, every delivery recorded.

1. burst: pre-fills the queue with N requests (default 50,000) routed to one webhook channel that
   points at a fast local sink (bench/sink.py), starts `notifierd run`, and reports requests/s from
   the first to the last delivery at the sink, and until the last one is recorded in Postgres;
2. steady: pushes requests at a fixed rate (default 500/s for 20 s) carrying their send time, and
   reports p50/p99/max enqueue-to-delivery latency measured at the sink;
3. the daemon's peak RSS (VmHWM) over both.
Uses the local Redis and Postgres (REDIS_URL / NOTIFIERD_BENCH_PG_ADMIN); its own database and keys.
Usage: python bench/throughput.py [--workers N] [--requests 50000] [--rate 500] [--seconds 20]
                                 [--log-level WARNING] [--profile FILE [--profile-seconds 8]]
(without --workers the daemon runs with its default: one worker per usable core)
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from cputime import CpuMeter, cpu_seconds, machine_busy_seconds, per_delivery, program_cpu_seconds
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
    """A process's peak resident memory (VmHWM), MiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_average() -> str:
    """`uptime`'s load averages (1, 5, 15 minutes): how busy the shared machine was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def daemon_pids(pid: int) -> list[int]:
    """The processes that do the work: the daemon itself, or the supervisor's workers."""
    return children(pid) or [pid]


class CpuShare:
    """CPU spent per request over a stretch of the burst, by the daemon(s), Postgres, Redis and
    the sink, and by the whole machine: figures that, unlike requests/s, do not move when a
    shared machine's other tenants do (the machine's own excepted)."""

    def __init__(self, pids: list[int], sink_pid: int, delivered: int) -> None:
        self.delivered = delivered
        self.meter = CpuMeter(
            {
                "daemon": lambda: sum(cpu_seconds(p) for p in pids),
                "Postgres": lambda: program_cpu_seconds("postgres"),
                "Redis": lambda: program_cpu_seconds("redis-server"),
                "sink": lambda: cpu_seconds(sink_pid),
                "the whole machine": machine_busy_seconds,
            }
        )
        self.per_request: dict[str, float] = {}

    def report(self, delivered: int, what: str = "burst") -> str:
        n = delivered - self.delivered
        self.per_request = per_delivery(self.meter.spent(), n)
        parts = ", ".join(f"{name} {us:.0f} µs" for name, us in self.per_request.items())
        return f"CPU per request over {n:,} {what} deliveries: {parts}"


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


async def fill(redis: Redis, queue: str, n: int, id_prefix: str = "burst-") -> None:
    for start in range(0, n, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(n, start + 5000)):
                pipe.lpush(
                    queue,
                    json.dumps(
                        {
                            "id": f"{id_prefix}{i}",
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


async def until_received(port: int, n: int, process: subprocess.Popen[bytes], what: str) -> None:
    """Until the sink on ``port`` has ``n`` deliveries; fails if ``process`` (what delivers to it)
    exits, or if they do not all come in a generous time (a lost one would hang the run)."""
    deadline = time.monotonic() + 60 + n / 200  # a loaded machine is slow, not broken
    while await sink_count(port) < n:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {await sink_count(port):,} of {n:,} deliveries arrived")
        await asyncio.sleep(0.05)


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


@dataclass
class DaemonRun:
    """What one run of `notifierd run` measured (times are Unix seconds)."""

    workers: int  # daemon processes: 1, or the supervisor's workers
    requests: int
    first_delivery: float = 0.0
    last_delivery: float = 0.0
    last_recorded: float = 0.0  # when the last burst delivery row was written
    started: float = 0.0  # the daemon's start
    all_recorded: float = 0.0  # when the driver saw every burst delivery recorded
    delivered: int = 0  # distinct burst requests the sink received
    duplicates: int = 0
    cpu: str = "CPU per request: n/a"
    # µs per burst request by part: daemon, Postgres, Redis, sink, machine (see CpuShare)
    cpu_per_request: dict[str, float] = field(default_factory=dict)
    steady_cpu: str = ""  # the same over the steady phase (each request its own small batch)
    steady_sent: int = 0
    steady_rate: float = 0.0  # achieved
    latencies_ms: list[float] = field(default_factory=list)  # enqueue to delivery at the sink
    worker_rss: list[float] = field(default_factory=list)  # peak RSS (MiB) of each worker
    supervisor_rss: float | None = None  # MiB; None: one process, no supervisor

    @property
    def span(self) -> float:
        return self.last_delivery - self.first_delivery

    @property
    def rate(self) -> float:
        """Burst deliveries/s, first to last delivery at the sink."""
        return self.requests / self.span if self.span > 0 else float("nan")

    @property
    def total_rss(self) -> float:
        return sum(self.worker_rss) + (self.supervisor_rss or 0.0)

    def lines(self) -> list[str]:
        recorded_span = self.last_recorded - self.first_delivery
        out = [
            f"burst: {self.requests:,} requests, first to last delivery {self.span:.2f}s = "
            f"{self.rate:,.0f} requests/s; first delivery to last recorded in Postgres "
            f"{recorded_span:.2f}s = {self.requests / recorded_span:,.0f}/s; start of the daemon "
            f"to all recorded {self.all_recorded - self.started:.2f}s; {self.duplicates} "
            "duplicate deliveries"
        ]
        if self.latencies_ms:
            steady = self.latencies_ms
            out.append(
                f"steady: {self.steady_sent:,} requests at {self.steady_rate:,.0f}/s: "
                f"enqueue-to-delivery p50 {statistics.median(steady):.2f} ms, p99 "
                f"{percentile(steady, 0.99):.1f} ms, max {max(steady):.1f} ms"
            )
        out.append(self.cpu)
        if self.steady_cpu:
            out.append(self.steady_cpu)
        rss = self.worker_rss
        if self.supervisor_rss is None:
            out.append(f"daemon peak RSS: {max(rss):.0f} MiB")
        else:
            out.append(
                f"daemon peak RSS: {self.total_rss:.0f} MiB together: supervisor "
                f"{self.supervisor_rss:.0f} MiB + {len(rss)} workers ("
                + ", ".join(f"{r:.0f}" for r in rss)
                + " MiB)"
            )
        return out


async def run_daemon(
    *,
    requests: int,
    rate: int = 500,
    seconds: float = 20.0,
    workers: int | None = None,
    profile: str | None = None,
    profile_seconds: float = 8.0,
    log_level: str = "WARNING",
    id_prefix: str = "",
) -> DaemonRun:
    """One run: its own database, Redis keys and sink; the queue pre-filled with ``requests``
    requests before `notifierd run` starts (``--workers`` only when ``workers`` is given, else
    the daemon's default), then ``seconds`` at ``rate`` requests/s (none when 0)."""
    work = Path(tempfile.mkdtemp(prefix="notifierd-throughput-"))
    (work / "config").mkdir()
    (work / "config" / "routes.yaml").write_text(CONFIG)
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    burst_ids, steady_ids = f"{id_prefix}burst-", f"{id_prefix}steady-"
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
    run = DaemonRun(workers=workers or 0, requests=requests)
    daemon: subprocess.Popen[bytes] | None = None
    conn: asyncpg.Connection | None = None
    n_steady = int(rate * seconds)
    try:
        await fill(redis, f"{prefix}:requests", requests, burst_ids)
        run.started = time.time()
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
                *(["--workers", str(workers)] if workers is not None else []),
                "--no-watch",
                "--log-level",
                log_level,
            ],
            env=env,
            # Not the caller's directory: `python -m` puts it first on the path, and a paired
            # run's PYTHONPATH=TREE would then run the code of whatever checkout it was run in.
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "daemon.log", "wb"),  # noqa: SIM115 - the child keeps it open
        )
        while conn is None:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon died: {(work / 'daemon.log').read_text()[-2000:]}")
            try:
                conn = await asyncpg.connect(pg_url)
                await conn.fetchval("SELECT count(*) FROM deliveries")
            except (asyncpg.UndefinedTableError, OSError):
                conn = None
                await asyncio.sleep(0.2)
        share: CpuShare | None = None
        while share is None and (seen := await sink_count(port)) < requests:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon died: {(work / 'daemon.log').read_text()[-2000:]}")
            if seen > 0:
                share = CpuShare(daemon_pids(daemon.pid), sink.pid, seen)
                if profile:  # from the first delivery: the drain, not the start-up
                    start_profiler(daemon.pid, profile, profile_seconds)
            await asyncio.sleep(0.05)
        await until_received(port, requests, daemon, "the daemon")
        if share is not None:
            run.cpu = share.report(requests)
            run.cpu_per_request = share.per_request
        run.workers = len(children(daemon.pid)) or 1
        await wait_recorded(conn, burst_ids, requests)
        run.all_recorded = time.time()
        # When the last burst delivery was written (its transaction's time; commit follows).
        run.last_recorded = (
            await conn.fetchval(
                "SELECT max(created_at) FROM deliveries WHERE request_id LIKE $1",
                burst_ids + "%",
            )
        ).timestamp()

        if n_steady:  # one request every 1/rate s, each carrying its send time
            run.steady_sent = n_steady
            steady_share = CpuShare(daemon_pids(daemon.pid), sink.pid, 0)
            run.steady_rate = await steady(redis, f"{prefix}:requests", rate, n_steady, steady_ids)
            await until_received(port, requests + n_steady, daemon, "the daemon")
            await wait_recorded(conn, steady_ids, n_steady)
            run.steady_cpu = steady_share.report(n_steady, "steady")
        workers_now = children(daemon.pid)
        run.worker_rss = [peak_rss_mib(p) for p in workers_now or [daemon.pid]]
        run.supervisor_rss = peak_rss_mib(daemon.pid) if workers_now else None
    finally:
        if conn is not None:
            await conn.close()
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(60)
        sink.terminate()
        sink.wait(60)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

    records = [json.loads(line) for line in sink_out.read_text().splitlines()]
    burst = [r["at"] for r in records if r["id"].startswith(burst_ids)]
    run.first_delivery, run.last_delivery = min(burst), max(burst)
    run.delivered = len({r["id"] for r in records if r["id"].startswith(burst_ids)})
    run.duplicates = len(burst) - run.delivered
    run.latencies_ms = [
        (r["at"] - r["sent_at"]) * 1000 for r in records if r["id"].startswith(steady_ids)
    ]
    shutil.rmtree(work, ignore_errors=True)
    return run


async def steady(redis: Redis, queue: str, rate: int, n: int, id_prefix: str) -> float:
    """Push ``n`` requests at ``rate``/s, each carrying its send time; the rate achieved."""

    async def push(i: int) -> None:
        request = {
            "id": f"{id_prefix}{i}",
            "title": "Steady",
            "message": "steady-rate request",
            "metadata": {"sent_at": time.time()},
        }
        await redis.lpush(queue, json.dumps(request))

    return await paced(rate, n, push)


async def paced(
    rate: int, n: int, send: Callable[[int], Awaitable[None]], *, at_once: int = 8
) -> float:
    """``send(0)`` … ``send(n - 1)``, one due every 1/rate s; up to ``at_once`` under way, so
    one slow send (a busy moment of the shared machine) does not hold back the next ones and
    lower the rate the daemon sees. ``send`` stamps its request when it runs. The rate achieved;
    a failed send raises."""
    interval = 1 / rate
    slots = asyncio.Semaphore(at_once)

    async def one(i: int) -> None:
        async with slots:
            await send(i)

    started: list[asyncio.Task[None]] = []
    t0 = time.perf_counter()
    for i in range(n):
        delay = t0 + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        started.append(asyncio.ensure_future(one(i)))
    await asyncio.gather(*started)
    return n / (time.perf_counter() - t0)


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
        help="the daemon's --log-level (its default, INFO, writes a JSON line per request not "
        "delivered at once; DEBUG one per request)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="notifierd run --workers N: daemon processes sharing the queue "
        "(default: the daemon's own, one per usable core)",
    )
    args = parser.parse_args()
    shown = f"--workers {args.workers}" if args.workers else "(default workers)"
    shown += f" --log-level {args.log_level}"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; notifierd run {shown}; {load_average()}"
    )
    run = await run_daemon(
        requests=args.requests,
        rate=args.rate,
        seconds=args.seconds,
        workers=args.workers,
        profile=args.profile,
        profile_seconds=args.profile_seconds,
        log_level=args.log_level,
    )
    for line in run.lines():
        print(line)
    print(f"after: {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
