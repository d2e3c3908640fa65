"""Benchmark: deliveries and /healthz while a bounded loopback connection flood runs.

Starts `notifierd run --http 127.0.0.1:PORT` with one webhook channel pointing at bench/sink.py,
then runs the same phase twice, without and with a flood: a burst of N requests (default 5,000)
pushed onto the queue and timed to the last delivery at the sink, while /healthz is probed every
20 ms on a fresh connection. The flood is a separate process holding C connections (default
5,000, bounded by its file-descriptor limit): half idle, half trickling a request head one header
line a second; a connection the daemon closes is reopened, at most R per second (default 1,000).
Uses the local Redis and Postgres (REDIS_URL / NOTIFIERD_BENCH_PG_ADMIN); its own database and keys.
The daemon runs with RLIMIT_NOFILE 1,024 (--daemon-fds), so a flood bigger than that would
exhaust its descriptors without the listener's cap.
Usage: python bench/connflood.py [--requests 5000] [--connections 5000] [--reconnect-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import (  # bench/ is a folder of scripts, not a package
    ADMIN,
    CONFIG,
    REDIS_URL,
    ROOT,
    create_database,
    percentile,
    sink_count,
    start_sink,
)

PROBE_EVERY = 0.02
PROBE_TIMEOUT = 5.0


def raise_fd_limit() -> int:
    """The soft RLIMIT_NOFILE raised to the hard one: how many descriptors this process has."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the flood (a child process: its event loop must not slow the probes it is measured by) ------


async def flood(port: int, connections: int, reconnect_rate: float) -> None:
    """Hold ``connections`` connections to the daemon until stdin closes; print what happened."""
    stats = {"opened": 0, "closed_by_daemon": 0, "refused_503": 0, "connect_errors": 0}
    tokens = asyncio.Semaphore(0)

    async def refill() -> None:  # reconnects at most reconnect_rate per second
        while True:
            for _ in range(max(1, int(reconnect_rate / 10))):
                tokens.release()
            await asyncio.sleep(0.1)

    async def hold(i: int, first: bool) -> None:
        trickle = i % 2 == 1
        while True:
            if not first:
                await tokens.acquire()
            first = False
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                stats["connect_errors"] += 1
                continue
            stats["opened"] += 1
            try:
                if trickle:
                    writer.write(b"GET /healthz HTTP/1.1\r\nHost: flood\r\n")
                    line = 0
                    while not reader.at_eof():
                        writer.write(b"X-Slow-%d: y\r\n" % line)
                        line += 1
                        try:
                            data = await asyncio.wait_for(reader.read(256), 1.0)
                        except TimeoutError:
                            continue
                        if data.startswith(b"HTTP/1.1 503"):
                            stats["refused_503"] += 1
                        if not data:
                            break
                else:
                    data = await reader.read(256)
                    if data.startswith(b"HTTP/1.1 503"):
                        stats["refused_503"] += 1
            except OSError:
                pass
            stats["closed_by_daemon"] += 1
            writer.close()

    filler = asyncio.create_task(refill())
    holders = []
    for i in range(connections):  # opened at a steady pace, not in one SYN burst
        holders.append(asyncio.create_task(hold(i, first=True)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(
        None, sys.stdin.read
    )  # until the parent ends it
    for task in [filler, *holders]:
        task.cancel()
    print(json.dumps(stats), flush=True)


# -- the measured phase --------------------------------------------------------------------------


async def probe_healthz(port: int, stop: asyncio.Event, latencies: list[float]) -> int:
    """Probe /healthz on a fresh connection every PROBE_EVERY s; return how many failed."""
    failures = 0
    request = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
    while not stop.is_set():
        started = time.perf_counter()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                answer = await reader.read()
                writer.close()
            if not answer.startswith(b"HTTP/1.1 200"):
                raise ConnectionError(answer[:40])
            latencies.append(time.perf_counter() - started)
        except (OSError, TimeoutError, ConnectionError):
            failures += 1
        await asyncio.sleep(PROBE_EVERY)
    return failures


async def phase(
    redis: Redis, queue: str, http_port: int, sink_port: int, n: int, tag: str, seconds: float
) -> str:
    """Push ``n`` requests, time them to the sink, and probe /healthz for at least ``seconds``."""
    latencies: list[float] = []
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_healthz(http_port, stop, latencies))
    before = await sink_count(sink_port)
    started = time.perf_counter()
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(n):
            request = {"id": f"{tag}-{i}", "title": "Benchmark", "message": f"request {i}"}
            pipe.lpush(queue, json.dumps(request))
        await pipe.execute()
    while await sink_count(sink_port) < before + n:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(max(1.0, seconds - elapsed))  # probes go on once the burst is over
    stop.set()
    failures = await prober
    ms = [x * 1000 for x in latencies]
    healthz = (
        f"p50 {percentile(ms, 0.5):6.1f} ms, p99 {percentile(ms, 0.99):6.1f} ms, "
        f"max {max(ms):7.1f} ms"
        if ms
        else "never answered"
    )
    return (
        f"{n / elapsed:8,.0f} deliveries/s in {elapsed:5.1f} s | /healthz {healthz}, "
        f"{len(ms):,} answered, {failures} failed"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--reconnect-rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="of /healthz probes a phase")
    parser.add_argument(
        "--head-timeout",
        type=float,
        default=10.0,
        help="the daemon's --http-head-timeout (0: leave the flag out, for a tree without it)",
    )
    parser.add_argument(
        "--daemon-fds",
        type=int,
        default=1024,
        help="the daemon's RLIMIT_NOFILE, soft and hard (1024: systemd's default soft limit)",
    )
    parser.add_argument("--flood", nargs=3, metavar=("PORT", "N", "RATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    limit = raise_fd_limit()
    if args.flood:
        port, n, rate = args.flood
        await flood(int(port), min(int(n), limit - 64), float(rate))
        return

    work = Path(tempfile.mkdtemp(prefix="notifierd-connflood-"))
    (work / "config").mkdir()
    (work / "config" / "routes.yaml").write_text(CONFIG)
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN)
    db, pg_url = await create_database(admin)
    redis = Redis.from_url(REDIS_URL)
    sink, sink_port = start_sink(work / "sink.jsonl")
    http_port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "POSTGRES_URL": pg_url,
        "SINK_URL": f"http://127.0.0.1:{sink_port}/hook",
        "SINK_SECRET": "bench",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "notifierd", "run", "--config", str(work / "config")]
    command += ["--queue", f"{prefix}:requests", "--key-prefix", prefix, "--no-watch"]
    command += ["--workers", "1"]  # one process under the descriptor limit, as measured before
    command += ["--http", f"127.0.0.1:{http_port}", "--log-level", "WARNING"]
    command += ["--log-format", "json"]
    if args.head_timeout:
        command += ["--http-head-timeout", str(args.head_timeout)]
    fds = args.daemon_fds
    daemon = subprocess.Popen(
        command,
        env=env,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (fds, fds)),
        stdout=open(work / "daemon.log", "wb"),  # noqa: SIM115 - the child keeps it open
        stderr=subprocess.STDOUT,
    )
    flooder: subprocess.Popen[str] | None = None
    try:
        while True:  # ready once /healthz answers
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", http_port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.2)
        queue = f"{prefix}:requests"
        await phase(redis, queue, http_port, sink_port, min(500, args.requests), "warmup", 0)
        measured = (redis, queue, http_port, sink_port, args.requests)
        print(f"without flood: {await phase(*measured, 'a', args.seconds)}")
        flood_args = (http_port, args.connections, args.reconnect_rate)
        flooder = subprocess.Popen(
            [sys.executable, __file__, "--flood", *map(str, flood_args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert flooder.stdout is not None and flooder.stdin is not None
        flooder.stdout.readline()  # "ready": every connection asked for
        print(f"with flood:    {await phase(*measured, 'b', args.seconds)}")
        flooder.stdin.close()
        print(
            f"flood ({args.connections:,} connections asked for): {flooder.stdout.readline().strip()}"
        )
        errors = [
            line
            for line in (work / "daemon.log").read_text().splitlines()
            if '"level": "error"' in line or '"level":"error"' in line or "Traceback" in line
        ]
        print(f"daemon log: {len(errors)} ERROR line(s); daemon fd limit {fds:,}")
        for line in errors[:3]:
            print(f"  {line[:200]}")
    finally:
        if flooder is not None:
            flooder.kill()
            flooder.wait()
        daemon.terminate()
        daemon.wait(timeout=30)
        sink.terminate()
        sink.wait()
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
