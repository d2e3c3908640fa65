"""Benchmark: the fault soak (issue 16) — requests keep coming while Redis, Postgres, a worker and
the config fail under the daemon; nothing may be lost and every malformed request is rejected with
a reason.

`notifierd run --workers 2` against a Redis and a Postgres of the soak's own (a redis-server and a
throwaway Postgres cluster on free loopback ports, in a temporary directory: the machine's shared
services are never touched), delivering to a local webhook sink. A producer pushes N requests at a
steady rate (default 20,000 over 120 s), M of them malformed (default 400: broken JSON, a number
with thousands of digits, NaN, a list, an unknown priority, nothing to send, a lone surrogate, a
2 MiB body), retrying a push while Redis is away. Meanwhile, one after another:

  Redis killed (SIGKILL) and started again from its append-only file, Postgres stopped (fast: its
  connections cut) and started again, one worker killed (SIGKILL), a broken routes.yaml pushed
  (SIGHUP) and then fixed (SIGHUP).

Then it waits for the queue to drain and reports: pushed, delivered, rejected with a reason, lost
(a well-formed request never delivered: must be 0), duplicates (a delivery the sink received more
than once), rejections whose reason speaks Python, and how long each phase took. Exits 1 when a
request was lost or a malformed one has no recorded reason.

Bounded: one producer, loopback only, one sink; the daemon's own limits apply.
Usage: PYTHONPATH=. python bench/faultsoak.py [--requests 20000] [--malformed 400]
       [--seconds 120] [--drain 120] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the fakes live in the tree under test
    sys.path.insert(0, str(ROOT))

from tests.fakes.private_postgres import PrivatePostgres  # noqa: E402
from tests.fakes.private_redis import PrivateRedis  # noqa: E402
from tests.fakes.webhook_sink import WebhookSink  # noqa: E402

PREFIX = "soak"
QUEUE = f"{PREFIX}:requests"
CONFIG = """\
settings:
  retry: {max_retries: 20, initial_delay: 200ms, multiplier: 2, max_delay: 2s, jitter: 0.1}
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
routes:
  - name: default
    channels: [sink]
"""
BROKEN = "routes:\n  - name: [this is not\n"

# One of each malformed kind in turn; the last is over the 1 MiB request limit.
MALFORMED: list[bytes] = [
    b"{not json",
    b'{"title": "t", "message": "m", "labels": {"n": ' + b"9" * 5000 + b"}}",
    b'{"title": "t", "message": NaN}',
    b"[1, 2, 3]",
    b'{"title": "t", "message": "m", "priority": "urgent!"}',
    b'{"priority": "low"}',
    b'{"title": "\\ud800", "message": "m"}',
    b'{"title": "t", "message": "' + b"x" * (2 << 20) + b'"}',
]
_PYTHON = re.compile(r"sys\.|Traceback|python|\b[A-Z]\w*(Error|Exception)\b", re.IGNORECASE)


@dataclass
class Report:
    pushed: int = 0
    well_formed: int = 0
    malformed: int = 0
    push_retries: int = 0  # pushes tried again while Redis was away
    delivered: int = 0  # well-formed requests the sink received
    rejected_with_reason: int = 0  # rows in rejected_requests with a reason
    reasons_speaking_python: int = 0
    lost: int = 0
    duplicates: int = 0  # deliveries the sink received more than once
    duplicated: list[str] = field(default_factory=list)  # their request ids (the first 20)
    worker_replaced_in: float | None = None  # seconds from SIGKILL to a new worker process
    daemon_alive: bool = False
    errors_logged: dict[str, int] = field(default_factory=dict)  # ERROR lines per logger
    tracebacks_logged: dict[str, int] = field(default_factory=dict)  # lines with one, per logger
    faults: list[str] = field(default_factory=list)  # what happened when, in run seconds
    seconds: float = 0.0
    drained_in: float = 0.0  # seconds from the last push to the last delivery recorded

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.rejected_with_reason == self.malformed


def workers_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except FileNotFoundError:
        return []


def payloads(requests: int, malformed: int) -> list[tuple[str | None, bytes]]:
    """(id, raw) in push order: well-formed requests with malformed ones spread among them."""
    every = max(1, requests // max(1, malformed)) if malformed else 0
    out: list[tuple[str | None, bytes]] = []
    bad = 0
    for i in range(requests):
        if every and i % every == every - 1 and bad < malformed:
            out.append((None, MALFORMED[bad % len(MALFORMED)]))
            bad += 1
            continue
        rid = f"soak-{i}"
        body = {"id": rid, "title": "soak", "message": f"request {i}", "labels": {"n": str(i)}}
        out.append((rid, json.dumps(body).encode()))
    return out


async def soak(
    *,
    requests: int = 20_000,
    malformed: int = 400,
    seconds: float = 120.0,
    drain: float = 120.0,
    workdir: Path | None = None,
    log: Callable[[str], None] = print,
) -> Report:
    """Run the soak; the caller owns ``workdir`` (a temporary directory when None, removed)."""
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="notifierd-soak-")) if workdir is None else workdir
    report = Report()
    redis_server = PrivateRedis(root, durable=True)
    postgres = PrivatePostgres()
    sink = WebhookSink()
    daemon: subprocess.Popen[bytes] | None = None
    try:
        redis_server.start()
        await asyncio.to_thread(postgres.start)
        await sink.start()
        config = root / "config"
        config.mkdir(exist_ok=True)
        routes = config / "routes.yaml"
        routes.write_text(textwrap.dedent(CONFIG))
        env = {
            **os.environ,
            "REDIS_URL": redis_server.url,
            "POSTGRES_URL": postgres.url,
            "SINK_URL": sink.url,
            "SINK_SECRET": "soak-secret",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        daemon_log = open(root / "daemon.log", "ab")  # noqa: SIM115 - the daemon's for its life
        daemon = subprocess.Popen(
            [
                *(sys.executable, "-m", "notifierd", "run", "--config", str(config)),
                *("--queue", QUEUE, "--key-prefix", PREFIX, "--workers", "2"),
                *("--heartbeat-ttl", "2", "--no-watch", "--log-format", "json"),
            ],
            env=env,
            stdout=daemon_log,
            stderr=daemon_log,
            cwd=root,
        )
        redis = Redis.from_url(redis_server.url, socket_timeout=2, socket_connect_timeout=1)
        await _both_workers_up(redis, daemon, root / "daemon.log")
        plan = payloads(requests, malformed)
        report.well_formed = sum(1 for rid, _ in plan if rid is not None)
        report.malformed = len(plan) - report.well_formed
        started = time.monotonic()

        def note(what: str) -> None:
            line = f"{time.monotonic() - started:6.1f}s {what}"
            report.faults.append(line)
            log(line)

        pushing = asyncio.create_task(_produce(redis, plan, seconds, report))
        await _faults(seconds, redis_server, postgres, daemon, routes, note, report)
        await pushing
        note(f"all {report.pushed} requests pushed")
        last_push = time.monotonic()
        good = {rid for rid, _ in plan if rid is not None}
        admin = await _connect(postgres.url)
        try:
            deadline = time.monotonic() + drain
            while time.monotonic() < deadline:
                seen = _delivered(sink, good)
                rejected = await _rejected(admin)
                if len(seen) == len(good) and len(rejected) >= report.malformed:
                    break
                await asyncio.sleep(0.5)
            report.drained_in = time.monotonic() - last_push
            note("drained" if time.monotonic() < deadline else "gave up waiting")
            seen = _delivered(sink, good)
            reasons = await _rejected(admin)
        finally:
            await admin.close()
        report.delivered = len(seen)
        report.lost = len(good - seen)
        report.rejected_with_reason = sum(1 for r in reasons if r.strip())
        report.reasons_speaking_python = sum(1 for r in reasons if _PYTHON.search(r))
        per_delivery = collections.Counter(
            r.headers.get("X-Notifierd-Delivery") for r in sink.received
        )
        report.duplicates = sum(n - 1 for n in per_delivery.values() if n > 1)
        twice = {d for d, n in per_delivery.items() if n > 1}
        report.duplicated = sorted(
            {
                json.loads(r.body).get("request_id", "?")
                for r in sink.received
                if r.headers.get("X-Notifierd-Delivery") in twice
            }
        )[:20]
        report.daemon_alive = daemon.poll() is None
        report.errors_logged, report.tracebacks_logged = _log_levels(root / "daemon.log")
        report.seconds = time.monotonic() - started
        await redis.aclose()
        return report
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(10)
        await sink.stop()
        redis_server.stop()
        await asyncio.to_thread(postgres.remove)
        if own:
            shutil.rmtree(root, ignore_errors=True)


async def _both_workers_up(redis: Redis, daemon: subprocess.Popen[bytes], log: Path) -> None:
    """Faults start once both workers run: a worker that cannot reach Redis at its very start
    exits (and the supervisor with it), which is a cold start, not the soak's subject."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"the daemon exited at start: {log.read_text()[-2000:]}")
        if len(await redis.keys(f"{PREFIX}:heartbeat:*")) >= 2:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the daemon's workers did not start: {log.read_text()[-2000:]}")


async def _produce(
    redis: Redis, plan: list[tuple[str | None, bytes]], seconds: float, report: Report
) -> None:
    """Push at a steady rate; a push that fails while Redis is away is tried again (it may land
    twice: the request id makes the second one a no-op)."""
    gap = seconds / max(1, len(plan))
    start = time.monotonic()
    for i, (_, raw) in enumerate(plan):
        delay = start + i * gap - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        while True:
            try:
                await redis.lpush(QUEUE, raw)
                break
            except (RedisError, OSError):
                report.push_retries += 1
                await asyncio.sleep(0.1)
        report.pushed += 1


async def _faults(
    seconds: float,
    redis_server: PrivateRedis,
    postgres: PrivatePostgres,
    daemon: subprocess.Popen[bytes],
    routes: Path,
    note: Callable[[str], None],
    report: Report,
) -> None:
    """One fault after another, spread over the push window, each undone before the next."""
    outage = min(3.0, seconds / 10)

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, fraction * seconds - (time.monotonic() - began)))

    began = time.monotonic()
    await at(0.15)
    note("Redis killed (SIGKILL)")
    redis_server.kill()
    await asyncio.sleep(outage)
    redis_server.start()
    note("Redis started again (from its append-only file)")
    await at(0.35)
    note("Postgres stopped (fast: connections cut)")
    await asyncio.to_thread(postgres.stop)
    await asyncio.sleep(outage)
    await asyncio.to_thread(postgres.start)
    note("Postgres started again")
    await at(0.55)
    workers = workers_of(daemon.pid)
    if workers:
        killed = workers[-1]
        os.kill(killed, signal.SIGKILL)
        note(f"worker {killed} killed (SIGKILL)")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            now = workers_of(daemon.pid)
            if len(now) == len(workers) and killed not in now:
                report.worker_replaced_in = time.monotonic() - t0
                note(f"worker replaced in {report.worker_replaced_in:.2f}s")
                break
            await asyncio.sleep(0.05)
    else:
        note("no worker to kill: the supervisor has no children")
    await at(0.75)
    good = routes.read_text()
    routes.write_text(BROKEN)
    daemon.send_signal(signal.SIGHUP)
    note("broken routes.yaml pushed (SIGHUP)")
    await asyncio.sleep(outage)
    routes.write_text(good)
    daemon.send_signal(signal.SIGHUP)
    note("routes.yaml fixed (SIGHUP)")


def _log_levels(path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """How many ERROR lines, and lines carrying a traceback, each logger wrote (JSON logs)."""
    errors: collections.Counter[str] = collections.Counter()
    tracebacks: collections.Counter[str] = collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            logger = str(entry.get("logger"))
            if entry.get("level") == "error":
                errors[logger] += 1
            if "exc" in entry:
                tracebacks[logger] += 1
    return dict(errors), dict(tracebacks)


def _delivered(sink: WebhookSink, good: set[str]) -> set[str]:
    ids = set()
    for r in sink.received:
        try:
            ids.add(json.loads(r.body)["request_id"])
        except (ValueError, KeyError, TypeError):
            continue
    return ids & good


async def _rejected(conn: asyncpg.Connection) -> list[str]:
    try:
        return [r["reason"] for r in await conn.fetch("SELECT reason FROM rejected_requests")]
    except asyncpg.UndefinedTableError:  # the daemon has not migrated yet
        return []


async def _connect(url: str) -> asyncpg.Connection:
    return await _retry(lambda: asyncpg.connect(url), 30)


async def _retry(
    op: Callable[[], Awaitable[asyncpg.Connection]], seconds: float
) -> asyncpg.Connection:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await op()
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--malformed", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=120.0, help="the push window")
    parser.add_argument("--drain", type=float, default=120.0, help="wait at most this after it")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and its logs")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="notifierd-soak-")) if args.keep else None
    report = asyncio.run(
        soak(
            requests=args.requests,
            malformed=args.malformed,
            seconds=args.seconds,
            drain=args.drain,
            workdir=workdir,
        )
    )
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    if workdir is not None:
        print(f"work directory kept: {workdir}")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
