"""Benchmark: a burst under a rate limit, and a provider that answers 429 like Slack (issue 12).

A. rate limit: pre-fills the queue with N requests (default 10,000) routed to one webhook channel
   that points at bench/sink.py and is limited to L per second (default 100; a `rate_limits`
   entry, sliding window or --algorithm token_bucket), starts `notifierd run [--workers N]` and
   reports: every request delivered (at the sink, and `delivered` in Postgres; every other one
   listed by what Postgres recorded for it), the drain rate first to last delivery against the
   limit, the most deliveries the sink saw in any 1-second window against what the algorithm
   admits (for a sliding window also the most admissions its Redis sorted set recorded in any
   1 s, which tells the limiter apart from jitter between admission and arrival), and — sampled every second while the requests wait — the daemon's RSS (VmRSS of the
   daemon and its workers) and Redis' connected_clients (plus the daemon's own Redis sockets).
B. provider 429s: a local Slack Web API whose chat.postMessage keeps Slack's documented pace
   (about 1 message per second per channel after a small burst; beyond it HTTP 429,
   `Retry-After: 1`, `{"ok": false, "error": "ratelimited"}`), a slack channel pointing at it
   through `api_url`, M requests to one Slack channel (default 300) and the default retry
   settings (max_retries 3). Reports: every one delivered, none dead-lettered, the drain rate
   against the provider's pace, the 429s answered (and per delivered message), RSS and Redis.
Exits 1 when any request was not delivered. Uses the local Redis and Postgres (REDIS_URL /
NOTIFIERD_BENCH_PG_ADMIN): its own database and key prefix, both removed at the end. The daemon
runs from a scratch directory, so PYTHONPATH picks the notifierd tree under test.
Usage: python bench/ratelimit.py [--requests 10000] [--limit 100] [--algorithm sliding_window]
       [--burst B] [--slack-requests 300] [--workers 1] [--part a|b|both] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import ADMIN, REDIS_URL, create_database, sink_count, start_sink

ROUTES_A = """\
channels:
  hook: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
rate_limits:
  - {channel: hook, limit: %(limit)d, window: 1s, algorithm: %(algorithm)s%(burst)s}
routes:
  - name: default
    channels: [hook]
"""
# No `settings:` on purpose: the default retry policy (max_retries 3) is the one under test.
ROUTES_B = """\
channels:
  bench-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    api_url: ${SLACK_API_URL}
    default_recipients: ["#bench"]
routes:
  - name: default
    channels: [bench-slack]
"""
SLACK_TOKEN = "xoxb-bench-token"
SLACK_PACE = 1.0  # messages per second per channel: Slack's chat.postMessage guidance
SLACK_BURST = 3  # "short bursts above the limit are allowed"
# Delivery statuses after which nothing more happens to a delivery.
FINAL = ("delivered", "dry_run", "dead", "suppressed", "deduplicated", "digested")
QUICK = {"requests": 600, "slack_requests": 15, "stall": 15.0}
FULL = {"requests": 10_000, "slack_requests": 300, "stall": 60.0}


# -- the daemon's footprint, read from /proc and Redis ------------------------------------------


def process_tree(pid: int) -> list[int]:
    """The daemon and, under --workers, the supervisor's workers (and theirs)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return pids


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sockets_to(pids: list[int], port: int) -> int:
    """Established TCP connections these processes hold to ``port`` (Redis' connections from
    the daemon alone, which connected_clients cannot tell apart from everyone else's)."""
    peers: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    cols = line.split()
                    if cols[3] == "01" and int(cols[2].rsplit(":", 1)[1], 16) == port:
                        peers.add(cols[9])
        except OSError:
            continue
    count = 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in peers:
                count += 1
    return count


@dataclass
class Sample:
    at: float
    rss_mib: float  # daemon + workers
    processes: int
    redis_clients: int  # INFO clients: connected_clients, server-wide
    daemon_redis: int  # of which the daemon's sockets
    delivered: int


@dataclass
class Sampler:
    """Samples the daemon every second while it drains: memory and Redis connections."""

    pid: int
    redis: Redis
    redis_port: int
    delivered: Callable[[], Awaitable[int]]
    samples: list[Sample] = field(default_factory=list)

    async def sample(self) -> Sample:
        pids = process_tree(self.pid)
        info = await self.redis.info("clients")
        sample = Sample(
            at=time.time(),
            rss_mib=sum(rss_kib(p) for p in pids) / 1024,
            processes=len(pids),
            redis_clients=int(info["connected_clients"]),
            daemon_redis=sockets_to(pids, self.redis_port),
            delivered=await self.delivered(),
        )
        self.samples.append(sample)
        return sample

    async def run(self) -> None:
        start = time.monotonic()
        tick = 0
        while True:
            await self.sample()
            tick += 1
            await asyncio.sleep(max(0.0, start + tick - time.monotonic()))

    def report(self) -> list[str]:
        """Start (first sample once deliveries flow), max and end of each figure."""
        running = [s for s in self.samples if s.delivered > 0] or self.samples
        if not running:
            return ["no samples"]

        def line(name: str, get: Callable[[Sample], float], fmt: str) -> str:
            values = [get(s) for s in running]
            return (
                f"{name}: start {fmt.format(values[0])}, max {fmt.format(max(values))}, "
                f"end {fmt.format(values[-1])} ({len(values)} samples, 1/s)"
            )

        procs = running[-1].processes
        return [
            line(
                "daemon RSS" + (f" ({procs} processes together)" if procs > 1 else ""),
                lambda s: s.rss_mib,
                "{:.0f} MiB",
            ),
            line("Redis connected_clients (server-wide)", lambda s: s.redis_clients, "{:.0f}"),
            line("  of which the daemon's sockets", lambda s: s.daemon_redis, "{:.0f}"),
        ]


class Admissions:
    """Every admission a sliding window made, on Redis' clock: its sorted set is read often
    enough (entries live a window long) that none leaves unseen. What the limiter itself let
    through, apart from the jitter between admission and arrival at the sink."""

    def __init__(self, redis: Redis, key: str, every: float = 0.2) -> None:
        self.redis = redis
        self.key = key
        self.every = every
        self.seen: dict[bytes, float] = {}  # entry -> admitted at, seconds

    async def run(self) -> None:
        while True:
            await self.read()
            await asyncio.sleep(self.every)

    async def read(self) -> None:
        for member, score in await self.redis.zrange(self.key, 0, -1, withscores=True):
            self.seen[member] = score / 1000


# -- a Slack Web API that paces chat.postMessage --------------------------------------------------


async def slack_args(request: web.Request) -> dict[str, Any]:
    """A Web API call's arguments: a JSON body, or a form (aiohttp keeps the body for a
    second read)."""
    raw = await request.read()
    if request.content_type == "application/json":
        return dict(json.loads(raw or b"{}"))
    return dict(parse_qsl(raw.decode(), keep_blank_values=True))


def notifierd_ids(args: dict[str, Any]) -> dict[str, Any]:
    """What notifierd puts in a message's metadata: its request_id and delivery_id."""
    metadata = args.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return (metadata or {}).get("event_payload") or {}


class PacedSlack:
    """chat.postMessage at Slack's pace: per channel a bucket of ``burst`` messages refilled at
    ``pace`` per second; a post finding it empty gets what Slack answers (HTTP 429, Retry-After,
    ``{"ok": false, "error": "ratelimited"}``) and is not posted."""

    def __init__(self, token: str, pace: float = SLACK_PACE, burst: int = SLACK_BURST) -> None:
        self.token = token
        self.pace = pace
        self.burst = burst
        self.buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, when)
        self.posted: list[tuple[float, str, str | None]] = []  # (at, channel, request id)
        self.limited: list[float] = []  # when each 429 was answered
        self.errors: collections.Counter[str] = collections.Counter()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _take(self, channel: str, now: float) -> float:
        """0 when the channel may post now (and counts it), else seconds until it may."""
        tokens, when = self.buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.pace)
        if tokens >= 1:
            self.buckets[channel] = (tokens - 1, now)
            return 0.0
        self.buckets[channel] = (tokens, now)
        return (1 - tokens) / self.pace

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await slack_args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or args.get("token", "")
        if method != "chat.postMessage":
            return self._error("unknown_method")
        if token != self.token:
            return self._error("invalid_auth")
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            return self._error("channel_not_found")
        now = time.time()
        wait = self._take(channel, now)
        if wait:
            self.limited.append(now)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        self.posted.append((now, channel, notifierd_ids(args).get("request_id")))
        channel_id = "C" + hashlib.sha1(channel.encode()).hexdigest()[:8].upper()
        return web.json_response(
            {"ok": True, "channel": channel_id, "ts": f"{now:.6f}", "message": {"text": ""}}
        )

    def _error(self, error: str) -> web.Response:
        self.errors[error] += 1
        return web.json_response({"ok": False, "error": error})  # Slack: HTTP 200


# -- running one part -------------------------------------------------------------------------


@dataclass
class Part:
    """One daemon run: its config, its requests and where their deliveries are counted."""

    name: str
    routes: str
    id_prefix: str
    n: int
    env: dict[str, str]
    delivered: Callable[[], Awaitable[int]]  # counted at the receiving end
    admissions: Admissions | None = None


@dataclass
class Outcome:
    settled: str  # why waiting stopped
    sampler: Sampler
    delivered_pg: int
    dead_letters: int
    left_in_redis: int
    lost: dict[str, list[str]]  # what Postgres says about each undelivered request -> ids
    started: float
    log: Path


def daemon_command(config: Path, queue: str, prefix: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "notifierd",
        "run",
        "--config",
        str(config),
        "--queue",
        queue,
        "--key-prefix",
        prefix,
        "--workers",
        str(workers),
        "--no-watch",
        "--log-level",
        "WARNING",
    ]


async def fill(redis: Redis, queue: str, id_prefix: str, n: int, title: str) -> None:
    for start in range(0, n, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(n, start + 5000)):
                request = {"id": f"{id_prefix}{i}", "title": title, "message": f"request {i}"}
                pipe.lpush(queue, json.dumps(request))
            await pipe.execute()


async def progress(conn: asyncpg.Connection, id_prefix: str) -> tuple[int, int, int]:
    """(requests recorded, deliveries not yet final, deliveries delivered) in Postgres."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM requests WHERE id LIKE $1) AS recorded, "
        "count(*) FILTER (WHERE status <> ALL($2::text[])) AS pending, "
        "count(*) FILTER (WHERE status = 'delivered') AS delivered "
        "FROM deliveries WHERE request_id LIKE $1",
        id_prefix + "%",
        list(FINAL),
    )
    return int(row["recorded"]), int(row["pending"]), int(row["delivered"])


async def undelivered(conn: asyncpg.Connection, id_prefix: str, n: int) -> dict[str, list[str]]:
    """Every request without a delivered delivery, grouped by what Postgres recorded for it."""
    rows = await conn.fetch(
        "SELECT r.id, r.outcome, r.reason, d.status, d.attempts, d.last_error "
        "FROM requests r LEFT JOIN deliveries d ON d.request_id = r.id WHERE r.id LIKE $1",
        id_prefix + "%",
    )
    by_id: dict[str, list[Any]] = collections.defaultdict(list)
    for row in rows:
        by_id[row["id"]].append(row)
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for i in range(n):
        rid = f"{id_prefix}{i}"
        found = by_id.get(rid)
        if not found:
            groups["missing: no record in Postgres"].append(rid)
            continue
        if any(r["status"] == "delivered" for r in found):
            continue
        r = found[0]
        if r["status"] is None:
            label = f"request {r['outcome']}: {r['reason'] or ''}"
        else:
            label = f"delivery {r['status']}: {r['last_error'] or ''}"
            if r["status"] not in FINAL:
                label += " (not final when the run ended)"
        groups[label[:200]].append(rid)
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


async def in_redis(redis: Redis, queue: str, prefix: str) -> int:
    """Requests still queued or held in a consumer's processing list."""
    total = int(await redis.llen(queue))
    async for key in redis.scan_iter(match=f"{prefix}:processing:*"):
        total += int(await redis.llen(key))
    return total


async def run_part(
    part: Part,
    *,
    work: Path,
    pg_url: str,
    redis: Redis,
    key_prefix: str,
    workers: int,
    stall: float,
    deadline: float,
) -> Outcome:
    config = work / part.name / "config"
    config.mkdir(parents=True)
    (config / "routes.yaml").write_text(part.routes)
    queue = f"{key_prefix}:requests"
    await fill(redis, queue, part.id_prefix, part.n, f"Benchmark {part.name}")
    log_path = work / part.name / "daemon.log"
    started = time.time()
    daemon = subprocess.Popen(
        daemon_command(config, queue, key_prefix, workers),
        env=part.env,
        cwd=work,  # not the checkout: PYTHONPATH then picks the notifierd under test
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "wb"),  # noqa: SIM115 - the child keeps it open
    )
    sampler = Sampler(daemon.pid, redis, urlsplit(REDIS_URL).port or 6379, part.delivered)
    watching = [asyncio.create_task(sampler.run())]
    if part.admissions is not None:
        watching.append(asyncio.create_task(part.admissions.run()))
    conn: asyncpg.Connection | None = None
    try:
        while conn is None:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon died at start: {log_path.read_text()[-2000:]}")
            try:
                conn = await asyncpg.connect(pg_url)
                await conn.fetchval("SELECT count(*) FROM deliveries")
            except (asyncpg.UndefinedTableError, OSError):
                if conn is not None:
                    await conn.close()
                conn = None
                await asyncio.sleep(0.2)
        last: tuple[int, ...] = ()
        changed = time.monotonic()
        give_up = time.monotonic() + deadline
        while True:
            recorded, pending, delivered_pg = await progress(conn, part.id_prefix)
            seen = await part.delivered()
            if recorded >= part.n and pending == 0:
                settled = "every request reached a final state"
                break
            if daemon.poll() is not None:
                settled = f"the daemon exited with status {daemon.returncode}"
                break
            now = time.monotonic()
            if (recorded, pending, delivered_pg, seen) != last:
                last, changed = (recorded, pending, delivered_pg, seen), now
            elif now - changed > stall:
                settled = f"no progress for {stall:.0f}s"
                break
            if now > give_up:
                settled = f"gave up after {deadline:.0f}s"
                break
            await asyncio.sleep(0.5)
        await sampler.sample()  # the end, taken before the daemon stops
        if part.admissions is not None:
            await part.admissions.read()
        left = await in_redis(redis, queue, key_prefix)
    finally:
        for task in watching:
            task.cancel()
        if daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
    assert conn is not None
    _, _, delivered_pg = await progress(conn, part.id_prefix)
    dead = await conn.fetchval(
        "SELECT count(*) FROM dead_letters WHERE request_id LIKE $1", part.id_prefix + "%"
    )
    lost = await undelivered(conn, part.id_prefix, part.n)
    await conn.close()
    return Outcome(settled, sampler, delivered_pg, int(dead), left, lost, started, log_path)


# -- figures ------------------------------------------------------------------------------------


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any half-open interval [t, t + window)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


def drain(times: list[float], allowance: int, pace: float, unit: str) -> str:
    """First to last delivery; the pace after what the limit lets through at once."""
    if len(times) < 2:
        return f"drain: {len(times)} deliveries, no rate"
    span = max(times) - min(times)
    steady = (len(times) - min(allowance, len(times) - 1)) / span if span else math.inf
    return (
        f"drain: {len(times):,} deliveries, first to last {span:.2f}s = {len(times) / span:,.1f}/s; "
        f"after the first {allowance} let through at once {steady:,.1f}/s "
        f"(limit {pace:g}/s{unit})"
    )


def admitted_line(admissions: Admissions | None, admits: int) -> str:
    if admissions is None:
        return "admissions at the limiter: not observable for a token bucket"
    if not admissions.seen:
        return "admissions at the limiter: none seen (its Redis key is not where expected)"
    busiest = max_in_window(list(admissions.seen.values()))
    return (
        f"most admissions in any 1 s at the limiter (Redis' clock): {busiest} of "
        f"{len(admissions.seen):,} seen" + ("  OVER THE LIMIT" if busiest > admits else "")
    )


def lost_lines(outcome: Outcome, n: int, received: set[str]) -> list[str]:
    """Requests Postgres does not record as delivered, by what it records instead."""
    ids = [rid for group in outcome.lost.values() for rid in group]
    if not ids:
        return [f"not delivered: 0 of {n:,}"]
    arrived = sum(rid in received for rid in ids)
    lines = [
        f"NOT DELIVERED: {len(ids):,} of {n:,}"
        + (f" ({arrived:,} of them did reach the receiving end)" if arrived else "")
    ]
    for label, group in outcome.lost.items():
        examples = ", ".join(group[:3]) + (", …" if len(group) > 3 else "")
        lines.append(f"  {len(group):>6,} × {label}  [{examples}]")
    return lines


def common_lines(outcome: Outcome) -> list[str]:
    lines = [f"stopped waiting: {outcome.settled}"]
    if outcome.left_in_redis:
        lines.append(f"still in Redis (queued or in a processing list): {outcome.left_in_redis:,}")
    lines += outcome.sampler.report()
    return lines


# -- main -------------------------------------------------------------------------------------


def notifierd_under_test(env: dict[str, str], cwd: Path) -> str:
    """Where `python -m notifierd` resolves for the daemon, and that tree's commit."""
    where = subprocess.run(
        [sys.executable, "-c", "import notifierd; print(notifierd.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tree = Path(where).parent.parent if where else None
    if tree is None:
        return "notifierd: not importable"
    rev = subprocess.run(
        ["git", "-C", str(tree), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"notifierd from {tree}" + (f" at {rev}" if rev else "")


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, help="part A requests (default 10,000)")
    parser.add_argument("--limit", type=int, default=100, help="part A limit per second")
    parser.add_argument(
        "--algorithm", choices=["sliding_window", "token_bucket"], default="sliding_window"
    )
    parser.add_argument("--burst", type=int, help="token_bucket only: the bucket size")
    parser.add_argument("--slack-requests", type=int, help="part B requests (default 300)")
    parser.add_argument("--workers", type=int, default=1, help="notifierd run --workers N")
    parser.add_argument("--part", choices=["a", "b", "both"], default="both")
    parser.add_argument(
        "--stall", type=float, help="stop waiting after this many seconds without progress"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke check of ~25 s: 600 + 15 requests"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    n_a = args.requests if args.requests is not None else sizes["requests"]
    n_b = args.slack_requests if args.slack_requests is not None else sizes["slack_requests"]
    stall = args.stall if args.stall is not None else sizes["stall"]
    if args.burst is not None and args.algorithm != "token_bucket":
        parser.error("--burst applies to --algorithm token_bucket only")

    work = Path(tempfile.mkdtemp(prefix="notifierd-ratelimit-"))
    run_id = uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(ADMIN)
    db, pg_url = await create_database(admin)
    redis = Redis.from_url(REDIS_URL)
    base_env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "POSTGRES_URL": pg_url,
        "NOTIFIERD_LOG_FORMAT": "json",
    }
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {notifierd_under_test(base_env, work)}; "
        f"notifierd run --workers {args.workers}"
    )
    print(
        f"Redis connected_clients before any daemon: {(await redis.info('clients'))['connected_clients']}"
    )
    summary: list[str] = []
    lost = 0
    sink = None
    slack: PacedSlack | None = None
    try:
        if args.part in ("a", "both"):
            sink_out = work / "sink.jsonl"
            sink, port = start_sink(sink_out)
            capacity = args.burst or args.limit
            allowance = capacity if args.algorithm == "token_bucket" else args.limit
            admits = capacity + args.limit if args.algorithm == "token_bucket" else args.limit
            burst = f", burst: {args.burst}" if args.burst else ""
            part = Part(
                "a",
                ROUTES_A % {"limit": args.limit, "algorithm": args.algorithm, "burst": burst},
                "rl-",
                n_a,
                {
                    **base_env,
                    "SINK_URL": f"http://127.0.0.1:{port}/hook",
                    "SINK_SECRET": "bench",
                },
                lambda: sink_count(port),
            )
            key_prefix = f"bench:rl{run_id}:a"
            if args.algorithm == "sliding_window":  # a bucket keeps no history to read
                part.admissions = Admissions(
                    redis, f"{key_prefix}:ratelimit:sliding_window:channel:hook"
                )
            expected = max(0, n_a - allowance) / args.limit
            print(
                f"A: {n_a:,} requests to a webhook limited to {args.limit}/s "
                f"({args.algorithm}{burst}); at the limit that takes ~{expected:.0f}s"
            )
            outcome = await run_part(
                part,
                work=work,
                pg_url=pg_url,
                redis=redis,
                key_prefix=key_prefix,
                workers=args.workers,
                stall=stall,
                deadline=3 * expected + 120,
            )
            sink.terminate()
            sink.wait(60)
            sink = None
            records = [json.loads(line) for line in sink_out.read_text().splitlines()]
            times = [r["at"] for r in records if (r["id"] or "").startswith("rl-")]
            distinct = len({r["id"] for r in records if (r["id"] or "").startswith("rl-")})
            busiest = max_in_window(times)
            lost += sum(len(ids) for ids in outcome.lost.values())
            summary += [
                f"A. {n_a:,} requests, webhook limited to {args.limit}/s ({args.algorithm}{burst}):",
                f"sink received {len(times):,} deliveries of {distinct:,} distinct requests "
                f"({len(times) - distinct} duplicates); Postgres: {outcome.delivered_pg:,} "
                f"delivered, {outcome.dead_letters:,} dead letters",
                *lost_lines(outcome, n_a, {r["id"] for r in records}),
                drain(times, allowance, args.limit, ""),
                f"most deliveries in any 1 s at the sink: {busiest} "
                f"(the {args.algorithm} admits at most {admits})"
                + ("  ABOVE THE LIMIT" if busiest > admits else ""),
                admitted_line(part.admissions, admits),
                *common_lines(outcome),
            ]
        if args.part in ("b", "both"):
            slack = PacedSlack(SLACK_TOKEN)
            url = await slack.start()

            async def posted() -> int:
                assert slack is not None
                return len(slack.posted)

            part = Part(
                "b",
                ROUTES_B,
                "slack-",
                n_b,
                {**base_env, "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_API_URL": url},
                posted,
            )
            expected = max(0, n_b - SLACK_BURST) / SLACK_PACE
            print(
                f"B: {n_b:,} requests to one Slack channel; its API takes {SLACK_PACE:g}/s per "
                f"channel after a burst of {SLACK_BURST}, so ~{expected:.0f}s"
            )
            outcome = await run_part(
                part,
                work=work,
                pg_url=pg_url,
                redis=redis,
                key_prefix=f"bench:rl{run_id}:b",
                workers=args.workers,
                stall=stall,
                deadline=3 * expected + 120,
            )
            await slack.stop()
            ours = [(at, rid) for at, _, rid in slack.posted if (rid or "").startswith("slack-")]
            times = [at for at, _ in ours]
            distinct = len({rid for _, rid in ours})
            n429 = len(slack.limited)
            lost += sum(len(ids) for ids in outcome.lost.values())
            summary += [
                f"B. {n_b:,} requests to one Slack channel paced at {SLACK_PACE:g}/s "
                f"(burst {SLACK_BURST}), default retry settings:",
                f"Slack posted {len(ours):,} messages of {distinct:,} distinct requests "
                f"({len(ours) - distinct} duplicates); Postgres: {outcome.delivered_pg:,} "
                f"delivered, {outcome.dead_letters:,} dead letters",
                *lost_lines(outcome, n_b, {rid for _, rid in ours if rid}),
                drain(times, SLACK_BURST, SLACK_PACE, " per channel, Slack's pace"),
                f"429s answered: {n429:,} = {n429 / max(1, len(ours)):.2f} per delivered message"
                + (f"; other errors: {dict(slack.errors)}" if slack.errors else ""),
                *common_lines(outcome),
            ]
            slack = None
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(60)
        if slack is not None:
            await slack.stop()
        keys = [k async for k in redis.scan_iter(match=f"bench:rl{run_id}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()

    print()
    print("\n".join(summary))
    if lost:
        print(f"\nFAIL: {lost:,} requests not delivered; daemon logs in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("\nOK: every request delivered")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
