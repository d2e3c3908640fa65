"""Benchmark: what a crash repeats, and whether one receiver that hangs stalls the others (issue 13).

A. repeats per crash: N requests (default 2,000) pre-filled for one channel — a Slack channel whose
   local Web API answers each chat.postMessage after a small delay (default 20 ms, like a real
   provider), or a webhook channel to bench/sink.py — then `notifierd run` (one worker) is killed
   with SIGKILL once a fraction of them (default 30 %) reached the provider, started again with
   the same consumer id (so it takes back at once what the dead process held), and left until
   every request is recorded delivered. Counts the messages the provider received more than once
   (Slack by request id, webhooks by X-Notifierd-Delivery) and the requests lost; K kills (default
   3) per channel type, each on a fresh queue. Then the throughput of an uninterrupted webhook
   burst (default 20,000 requests) to the sink, first to last delivery.
B. one receiver hangs: a webhook receiver that accepts connections and never answers (the
   channel's timeout, default 10 s) gets a burst of requests (default 1,200); right after, Slack
   requests arrive at a steady rate (default 20/s for 30 s) for a local Slack that answers at once
   — except HTTP 500, once, to a few of them. Reports the Slack messages' enqueue-to-delivery
   latency, how late the failed ones' retries went out against their due time (the
   next_attempt_at Postgres recorded), and when the hanging receiver's deliveries reached the
   dead-letter queue against what the retry schedule says.
Exits 1 when a request was lost. Uses the local Redis and Postgres (REDIS_URL /
NOTIFIERD_BENCH_PG_ADMIN): its own database and key prefix, both removed at the end. The daemon
runs from a scratch directory, so PYTHONPATH picks the notifierd tree under test.
Usage: python bench/faults.py [--part a|b|both] [--quick] [--requests 2000] [--kills 3]
       [--kill-at 0.3] [--slack-delay 0.02] [--burst 20000] [--hook-requests 1200]
       [--slack-rate 20] [--slack-seconds 30] [--slack-failures 10] [--hook-timeout 10]
       [--dlq-deadline 300] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ratelimit import (
    SLACK_TOKEN,
    PacedSlack,
    daemon_command,
    fill,
    notifierd_under_test,
    progress,
    slack_args,
)
from ratelimit import notifierd_ids as slack_ids
from throughput import ADMIN, REDIS_URL, create_database, percentile, sink_count, start_sink

SLACK_CHANNEL = """\
  bench-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    api_url: ${SLACK_API_URL}
    default_recipients: ["#bench"]
"""
ROUTES_SLACK = f"""\
channels:
{SLACK_CHANNEL}routes:
  - name: default
    channels: [bench-slack]
"""
ROUTES_HOOK = """\
channels:
  hook: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
routes:
  - name: default
    channels: [hook]
"""
# Part B: the hanging receiver's requests come from one source, everything else goes to Slack.
ROUTES_HANG = f"""\
settings:
  retry: {{max_retries: %(retries)d, initial_delay: %(initial)gs, multiplier: %(multiplier)g}}
channels:
  hook: {{type: webhook, url: "${{HOOK_URL}}", timeout: %(timeout)gs}}
{SLACK_CHANNEL}routes:
  - name: hanging
    matchers: ['source="faults-hook"']
    channels: [hook]
  - name: default
    channels: [bench-slack]
"""
QUICK = {
    "requests": 600,
    "kills": 1,
    "burst": 3000,
    "hook_requests": 300,
    "slack_seconds": 10.0,
    "slack_failures": 4,
    "dlq_deadline": 60.0,
}
FULL = {
    "requests": 2000,
    "kills": 3,
    "burst": 20_000,
    "hook_requests": 1200,
    "slack_seconds": 30.0,
    "slack_failures": 10,
    "dlq_deadline": 300.0,
}


# -- receivers --------------------------------------------------------------------------------


class FakeSlack(PacedSlack):
    """chat.postMessage without a rate limit: a message is posted when the call arrives and
    answered ``delay`` seconds later (so a crash finds some posted and unanswered, as with a
    real provider). A request id in ``fail_once`` is answered HTTP 500 the first time, not
    posted."""

    def __init__(self, delay: float, fail_once: frozenset[str] = frozenset()) -> None:
        super().__init__(SLACK_TOKEN)
        self.delay = delay
        self.fail_once = fail_once
        self.failed: dict[str, float] = {}  # request id -> when its 500 was answered

    def _take(self, channel: str, now: float) -> float:
        return 0.0

    async def _api(self, request: web.Request) -> web.Response:
        rid = slack_ids(await slack_args(request)).get("request_id")
        if rid in self.fail_once and rid not in self.failed:
            await asyncio.sleep(self.delay)
            self.failed[rid] = time.time()
            return web.Response(status=500, text="Internal Server Error")
        response = await super()._api(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return response

    def received(self, id_prefix: str) -> list[tuple[float, str]]:
        """(when, request id) of every message posted for these requests."""
        return [(at, rid) for at, _, rid in self.posted if rid and rid.startswith(id_prefix)]


class Silent(asyncio.Protocol):
    """A webhook receiver that accepts every connection, reads every request and never
    answers. Counts connections and complete requests."""

    connections: ClassVar[int] = 0
    requests: ClassVar[list[float]] = []  # when each request arrived
    open: ClassVar[set[asyncio.BaseTransport]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Silent.connections += 1
        Silent.open.add(transport)
        self.transport = transport
        self.buffer = b""

    def connection_lost(self, exc: Exception | None) -> None:
        Silent.open.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:head_end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < head_end + 4 + length:
                return
            self.buffer = self.buffer[head_end + 4 + length :]
            Silent.requests.append(time.time())


# -- the daemon -------------------------------------------------------------------------------


@dataclass
class Bench:
    """What every run shares: the scratch directory, the database, Redis and the environment."""

    work: Path
    run_id: str
    pg_url: str
    redis: Redis
    env: dict[str, str]

    def key_prefix(self, name: str) -> str:
        return f"bench:faults{self.run_id}:{name}"

    def config(self, name: str, routes: str) -> Path:
        config = self.work / name / "config"
        config.mkdir(parents=True)
        (config / "routes.yaml").write_text(routes)
        return config

    def start(
        self, name: str, config: Path, env: dict[str, str], log: str = "daemon"
    ) -> subprocess.Popen[bytes]:
        """`notifierd run` (one worker) on this run's queue; a restart keeps the consumer id."""
        prefix = self.key_prefix(name)
        with open(self.work / name / f"{log}.log", "ab") as stderr:  # the child keeps its copy
            return subprocess.Popen(
                [
                    *daemon_command(config, f"{prefix}:requests", prefix, 1),
                    "--consumer-id",
                    f"faults-{name}",
                ],
                env={**self.env, **env},
                cwd=self.work,  # not the checkout: PYTHONPATH then picks the tree under test
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    async def connect(self, daemon: subprocess.Popen[bytes], name: str) -> asyncpg.Connection:
        """A connection once the daemon has migrated the database and started its consumer."""
        heartbeat = f"{self.key_prefix(name)}:heartbeat:faults-{name}"
        while not await self.redis.exists(heartbeat):
            if daemon.poll() is not None:
                log = (self.work / name / "daemon.log").read_text()[-2000:]
                raise SystemExit(f"the daemon died at start: {log}")
            await asyncio.sleep(0.05)
        while True:
            if daemon.poll() is not None:
                log = (self.work / name / "daemon.log").read_text()[-2000:]
                raise SystemExit(f"the daemon died at start: {log}")
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.pg_url)
                await conn.fetchval("SELECT count(*) FROM deliveries")
                return conn
            except (asyncpg.UndefinedTableError, OSError):
                if conn is not None:
                    await conn.close()
                await asyncio.sleep(0.1)


def stop(daemon: subprocess.Popen[bytes]) -> None:
    if daemon.poll() is None:
        daemon.terminate()
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


async def wait_for(
    count: Callable[[], Awaitable[int]],
    target: int,
    daemon: subprocess.Popen[bytes],
    deadline: float,
    every: float,
) -> int:
    """Poll ``count`` until it reaches ``target``; SystemExit when the daemon exits or time runs out."""
    give_up = time.monotonic() + deadline
    while (n := await count()) < target:
        if daemon.poll() is not None:
            raise SystemExit(f"the daemon exited with status {daemon.returncode} at {n}/{target}")
        if time.monotonic() > give_up:
            raise SystemExit(f"gave up after {deadline:.0f}s at {n}/{target}")
        await asyncio.sleep(every)
    return n


def drain(times: list[float]) -> float:
    """Messages per second from the first to the last of ``times``."""
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0


def by_second(times: list[float], since: float) -> str:
    """How many of ``times`` fell in each whole second after ``since``: "0s: 100, 10s: 98"."""
    counts = collections.Counter(int(t - since) for t in times)
    return ", ".join(f"{s}s: {n}" for s, n in sorted(counts.items())) or "none"


def by_window(timed: list[tuple[float, float]], width: float) -> str:
    """The p50 and max of (value, offset) pairs for each ``width`` seconds of offset."""
    windows: dict[int, list[float]] = collections.defaultdict(list)
    for value, offset in timed:
        windows[int(offset // width)].append(value)
    return "; ".join(
        f"{w * width:g}–{(w + 1) * width:g}s p50 {statistics.median(v):.0f} max {max(v):.0f} ms"
        for w, v in sorted(windows.items())
    )


def spread(values: list[float], unit: str = "", fmt: str = "{:.0f}") -> str:
    if not values:
        return "n/a"
    return (
        f"min {fmt.format(min(values))}{unit}, median {fmt.format(statistics.median(values))}"
        f"{unit}, max {fmt.format(max(values))}{unit}"
    )


def quantiles(values: list[float], unit: str, fmt: str = "{:.0f}") -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {fmt.format(statistics.median(values))} {unit}, p99 "
        f"{fmt.format(percentile(values, 0.99))} {unit}, max {fmt.format(max(values))} {unit}"
    )


# -- A. repeats per crash ---------------------------------------------------------------------


@dataclass
class Crash:
    kind: str  # slack or webhook
    n: int
    at_kill: int  # messages at the provider when the process was killed
    recorded_at_kill: int  # deliveries Postgres had recorded delivered by then
    repeats: int  # messages the provider received more than once (extra copies)
    same_delivery_id: bool | None  # every repeat carried its first copy's delivery id (webhook)
    lost: int  # requests the provider never received
    delivered_pg: int
    restarted_at: float  # when the second process started (unix time)
    restart_to_done: float  # the second process' start to every request recorded, seconds
    drain: float = 0.0  # after the restart, first to last message at the provider: messages/s


async def crash_slack(bench: Bench, slack: FakeSlack, trial: int, n: int, kill_at: float) -> Crash:
    name = f"a-slack{trial}"
    id_prefix = f"aslack{trial}-"
    config = bench.config(name, ROUTES_SLACK)
    await fill(bench.redis, f"{bench.key_prefix(name)}:requests", id_prefix, n, "Crash test")
    env = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_API_URL": slack.url}

    async def count() -> int:
        return len(slack.received(id_prefix))

    return await crash(bench, name, config, env, "slack", id_prefix, n, kill_at, count, slack)


async def crash_webhook(bench: Bench, trial: int, n: int, kill_at: float) -> Crash:
    name = f"a-hook{trial}"
    id_prefix = f"ahook{trial}-"
    config = bench.config(name, ROUTES_HOOK)
    await fill(bench.redis, f"{bench.key_prefix(name)}:requests", id_prefix, n, "Crash test")
    out = bench.work / name / "sink.jsonl"
    sink, port = start_sink(out)
    env = {"SINK_URL": f"http://127.0.0.1:{port}/hook", "SINK_SECRET": "bench"}
    try:
        result = await crash(
            bench, name, config, env, "webhook", id_prefix, n, kill_at, lambda: sink_count(port)
        )
    finally:
        sink.terminate()
        sink.wait(60)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    by_delivery = collections.Counter(r["delivery"] for r in records)
    by_request = collections.Counter(r["id"] for r in records)
    result.repeats = len(records) - len(by_delivery)
    result.same_delivery_id = len(by_delivery) == len(by_request)
    result.lost = n - len(by_request)
    result.drain = drain([r["at"] for r in records if r["at"] >= result.restarted_at])
    return result


async def crash(
    bench: Bench,
    name: str,
    config: Path,
    env: dict[str, str],
    kind: str,
    id_prefix: str,
    n: int,
    kill_at: float,
    count: Callable[[], Awaitable[int]],
    slack: FakeSlack | None = None,
) -> Crash:
    first = bench.start(name, config, env)
    conn = await bench.connect(first, name)
    second: subprocess.Popen[bytes] | None = None
    try:
        target = max(1, int(n * kill_at))
        await wait_for(count, target, first, 120, 0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = await count()
        _, _, recorded_at_kill = await progress(conn, id_prefix)
        second = bench.start(name, config, env, "daemon-restarted")
        restarted, restarted_at = time.monotonic(), time.time()

        async def settled() -> int:
            recorded, pending, delivered = await progress(conn, id_prefix)
            return delivered if recorded >= n and pending == 0 else 0

        await wait_for(settled, n, second, 300, 0.1)
        restart_to_done = time.monotonic() - restarted
        _, _, delivered_pg = await progress(conn, id_prefix)
    finally:
        await conn.close()
        for daemon in (first, second):
            if daemon is not None:
                stop(daemon)
    repeats, lost, rate = 0, 0, 0.0
    if slack is not None:
        received = slack.received(id_prefix)
        by_request = collections.Counter(rid for _, rid in received)
        repeats, lost = sum(by_request.values()) - len(by_request), n - len(by_request)
        rate = drain([at for at, _ in received if at >= restarted_at])
    return Crash(
        kind,
        n,
        at_kill,
        recorded_at_kill,
        repeats,
        None,
        lost,
        delivered_pg,
        restarted_at,
        restart_to_done,
        rate,
    )


@dataclass
class Burst:
    n: int
    span: float  # first to last delivery at the sink
    recorded_span: float  # first delivery to the last one recorded in Postgres
    duplicates: int


async def webhook_burst(bench: Bench, n: int) -> Burst:
    """An uninterrupted burst to the sink: first to last delivery."""
    name = "a-burst"
    id_prefix = "aburst-"
    config = bench.config(name, ROUTES_HOOK)
    await fill(bench.redis, f"{bench.key_prefix(name)}:requests", id_prefix, n, "Burst")
    out = bench.work / name / "sink.jsonl"
    sink, port = start_sink(out)
    env = {"SINK_URL": f"http://127.0.0.1:{port}/hook", "SINK_SECRET": "bench"}
    daemon = bench.start(name, config, env)
    try:
        conn = await bench.connect(daemon, name)
        await wait_for(lambda: sink_count(port), n, daemon, 600, 0.05)

        async def recorded() -> int:
            return (await progress(conn, id_prefix))[2]

        await wait_for(recorded, n, daemon, 120, 0.2)
        last_recorded = (
            await conn.fetchval(
                "SELECT max(created_at) FROM deliveries WHERE request_id LIKE $1", id_prefix + "%"
            )
        ).timestamp()
        await conn.close()
    finally:
        stop(daemon)
        sink.terminate()
        sink.wait(60)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    times = [r["at"] for r in records]
    return Burst(
        n,
        max(times) - min(times),
        last_recorded - min(times),
        len(records) - len({r["id"] for r in records}),
    )


async def part_a(bench: Bench, args: argparse.Namespace) -> tuple[list[str], int]:
    slack = FakeSlack(args.slack_delay)
    await slack.start()
    crashes: dict[str, list[Crash]] = {"slack": [], "webhook": []}
    try:
        for trial in range(args.kills):
            for kind in ("slack", "webhook"):
                if kind == "slack":
                    c = await crash_slack(bench, slack, trial, args.requests, args.kill_at)
                else:
                    c = await crash_webhook(bench, trial, args.requests, args.kill_at)
                crashes[kind].append(c)
                print(
                    f"  A {kind} kill {trial + 1}: killed at {c.at_kill:,} at the provider "
                    f"({c.recorded_at_kill:,} recorded), {c.repeats} repeated, {c.lost} lost; "
                    f"restart to all recorded {c.restart_to_done:.1f}s",
                    flush=True,
                )
    finally:
        await slack.stop()
    burst = await webhook_burst(bench, args.burst)
    lines = [
        f"A. repeats per crash: {args.requests:,} requests, SIGKILL after {args.kill_at:.0%} "
        f"reached the provider, restart, {args.kills} kill(s) per channel type:"
    ]
    lost = 0
    for kind, runs in crashes.items():
        if not runs:
            continue
        lost += sum(c.lost for c in runs) + sum(args.requests - c.delivered_pg for c in runs)
        provider = (
            f"Slack answering after {args.slack_delay * 1000:g} ms" if kind == "slack" else "sink"
        )
        lines += [
            f"{kind} ({provider}): repeats per kill {spread([c.repeats for c in runs])} "
            f"[{', '.join(str(c.repeats) for c in runs)}]; sent but not recorded at the kill "
            f"{spread([c.at_kill - c.recorded_at_kill for c in runs])}",
            f"  lost {sum(c.lost for c in runs)}; recorded delivered "
            f"{', '.join(f'{c.delivered_pg:,}' for c in runs)} of {args.requests:,}; "
            f"drain after the restart {spread([c.drain for c in runs], '/s')}"
            + (
                ""
                if kind == "slack"
                else "; every repeat carried its first copy's delivery id: "
                + ("yes" if all(c.same_delivery_id for c in runs) else "NO")
            ),
        ]
    lines.append(
        f"webhook burst, {burst.n:,} requests uninterrupted: first to last delivery "
        f"{burst.span:.2f}s = {burst.n / burst.span:,.0f}/s; to the last recorded "
        f"{burst.n / burst.recorded_span:,.0f}/s; {burst.duplicates} duplicates"
    )
    return lines, lost


# -- B. one receiver hangs --------------------------------------------------------------------


@dataclass
class Watch:
    """What Part B samples from Postgres while it runs."""

    due: dict[str, float] = field(default_factory=dict)  # failed Slack request -> retry due
    dead: list[tuple[float, int]] = field(default_factory=list)  # (when, dead hook deliveries)


async def watch(conn: asyncpg.Connection, failing: list[str], out: Watch) -> None:
    """Every 0.1 s: when each failed Slack message's retry is due (Postgres' next_attempt_at,
    read while it waits), and how many of the hanging receiver's deliveries are dead."""
    while True:
        rows = await conn.fetch(
            "SELECT request_id, next_attempt_at FROM deliveries WHERE channel = 'bench-slack' "
            "AND status = 'retrying' AND attempts >= 1 AND request_id = ANY($1::text[])",
            failing,
        )
        for row in rows:
            out.due.setdefault(row["request_id"], row["next_attempt_at"].timestamp())
        dead = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE request_id LIKE 'bhook-%' AND status = 'dead'"
        )
        out.dead.append((time.time(), int(dead)))
        await asyncio.sleep(0.1)


async def part_b(bench: Bench, args: argparse.Namespace) -> tuple[list[str], int]:
    n_slack = int(args.slack_rate * args.slack_seconds)
    step = n_slack / max(1, args.slack_failures)
    failing = [f"bslack-{int(step * (k + 0.5))}" for k in range(args.slack_failures)]
    slack = FakeSlack(args.b_slack_delay, frozenset(failing))
    await slack.start()
    Silent.connections, Silent.requests = 0, []
    hang = await asyncio.get_running_loop().create_server(Silent, "127.0.0.1", 0, backlog=1024)
    hang_port = hang.sockets[0].getsockname()[1]
    name = "b"
    routes = ROUTES_HANG % {
        "retries": args.max_retries,
        "initial": args.initial_delay,
        "multiplier": args.multiplier,
        "timeout": args.hook_timeout,
    }
    config = bench.config(name, routes)
    queue = f"{bench.key_prefix(name)}:requests"
    env = {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_API_URL": slack.url,
        "HOOK_URL": f"http://127.0.0.1:{hang_port}/hook",
    }
    daemon = bench.start(name, config, env)
    sent: dict[str, float] = {}
    seen = Watch()
    watcher: asyncio.Task[None] | None = None
    conn = await bench.connect(daemon, name)
    try:
        watcher = asyncio.create_task(watch(conn, failing, seen))
        burst_at = time.time()
        async with bench.redis.pipeline(transaction=False) as pipe:
            for i in range(args.hook_requests):
                request = {"id": f"bhook-{i}", "title": "Hanging", "message": f"request {i}"}
                pipe.lpush(queue, json.dumps({**request, "source": "faults-hook"}))
            await pipe.execute()
        t0 = time.perf_counter()
        for i in range(n_slack):
            delay = t0 + i / args.slack_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            rid = f"bslack-{i}"
            sent[rid] = time.time()
            await bench.redis.lpush(
                queue,
                json.dumps({"id": rid, "title": "Steady", "message": "while a webhook hangs"}),
            )
        give_up = burst_at + args.dlq_deadline
        settled = "every Slack message delivered and every webhook delivery dead"
        while True:
            posted = {rid for _, rid in slack.received("bslack-")}
            dead = seen.dead[-1][1] if seen.dead else 0
            if len(posted) >= n_slack and dead >= args.hook_requests:
                break
            if daemon.poll() is not None:
                settled = f"the daemon exited with status {daemon.returncode}"
                break
            if time.time() > give_up:
                settled = f"gave up {args.dlq_deadline:.0f}s after the burst"
                break
            await asyncio.sleep(0.2)
        ended = time.time()
        hook_rows = await conn.fetch(
            "SELECT d.status, d.attempts, extract(epoch FROM l.dead_at) AS dead_at, "
            "extract(epoch FROM r.received_at) AS received_at FROM deliveries d "
            "JOIN requests r ON r.id = d.request_id "
            "LEFT JOIN dead_letters l ON l.delivery_id = d.id WHERE d.request_id LIKE 'bhook-%'"
        )
        slack_pg = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE request_id LIKE 'bslack-%' AND status = 'delivered'"
        )
    finally:
        if watcher is not None:
            watcher.cancel()
        await conn.close()
        stop(daemon)
        hang.close()
        for transport in list(Silent.open):
            transport.abort()
        await slack.stop()

    first_post: dict[str, float] = {}
    for at, rid in slack.received("bslack-"):
        first_post.setdefault(rid, at)
    timed = [
        ((first_post[rid] - at) * 1000, at - burst_at)
        for rid, at in sent.items()
        if rid in first_post and rid not in slack.fail_once
    ]
    latency = [ms for ms, _ in timed]
    worst = max(timed, default=(0.0, 0.0))
    settled_at = [at for ms, at in timed if ms > 100]
    missing = n_slack - len(first_post)
    late = [first_post[r] - seen.due[r] for r in failing if r in first_post and r in seen.due]
    gap = [
        first_post[r] - slack.failed[r] for r in failing if r in first_post and r in slack.failed
    ]
    no_due = [r for r in failing if r in first_post and r not in seen.due]

    statuses = collections.Counter(r["status"] for r in hook_rows)
    dead_at = sorted(float(r["dead_at"]) for r in hook_rows if r["dead_at"] is not None)
    per_delivery = [
        float(r["dead_at"]) - float(r["received_at"]) for r in hook_rows if r["dead_at"] is not None
    ]
    waits = [args.initial_delay * args.multiplier**k for k in range(args.max_retries)]
    attempts = args.max_retries + 1
    schedule = sum(waits)
    with_timeouts = schedule + attempts * args.hook_timeout
    by_time = ""
    for mark in (30, 60, 120, 150):
        if burst_at + mark <= ended:
            n_dead = max((d for at, d in seen.dead if at <= burst_at + mark), default=0)
            by_time += f"{'; ' if by_time else ''}{n_dead:,} after {mark}s"
    lines = [
        f"B. a webhook receiver that never answers (timeout {args.hook_timeout:g}s), "
        f"{args.hook_requests:,} requests; Slack {args.slack_rate:g}/s for "
        f"{args.slack_seconds:g}s ({n_slack:,} messages, {len(failing)} answered HTTP 500 once):",
        f"stopped waiting: {settled}",
        f"Slack enqueue-to-delivery while the webhook hangs: {quantiles(latency, 'ms')} "
        f"({len(latency):,} messages; {missing} never delivered; Postgres: {slack_pg:,} "
        f"delivered); the worst sent {worst[1]:.1f}s after the burst"
        + (
            f"; the last over 100 ms sent {max(settled_at):.1f}s after it"
            if settled_at
            else "; none over 100 ms"
        ),
        f"Slack retries after a 500 (due ~{args.initial_delay:g}s later, ±10 % jitter): lateness "
        f"against next_attempt_at {quantiles([x * 1000 for x in late], 'ms')}; 500 to retry "
        f"{spread(gap, ' s', '{:.2f}')} ({len(late)} of {len(failing)} with a due time seen"
        + (f"; {len(no_due)} retried before one was read" if no_due else "")
        + ")",
        f"hanging webhook: {statuses.get('dead', 0):,} of {args.hook_requests:,} dead"
        + (f" ({by_time})" if by_time else "")
        + (
            f"; all dead {dead_at[-1] - burst_at:.1f}s after the burst (first "
            f"{dead_at[0] - burst_at:.1f}s)"
            if len(dead_at) == args.hook_requests
            else f"; not all: {dict(statuses)}"
        ),
        f"  per delivery, received to dead-letter: {spread(per_delivery, ' s', '{:.1f}')}; "
        f"the schedule: {attempts} attempts, {' + '.join(f'{w:g}' for w in waits)} = "
        f"{schedule:g}s between them (±10 %), so {schedule + args.hook_timeout:g}s when only "
        f"the first waits out the {args.hook_timeout:g}s timeout, {with_timeouts:g}s when "
        "every attempt does",
        f"  sends that reached the receiver: {len(Silent.requests):,} on {Silent.connections:,} "
        f"connections ({args.hook_requests * attempts:,} attempts scheduled); by the second "
        f"after the burst they arrived in: {by_second(Silent.requests, burst_at)}",
        f"  Slack latency by when it was sent after the burst: {by_window(timed, 5.0)}",
    ]
    return lines, missing


# -- main -------------------------------------------------------------------------------------


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=["a", "b", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="a smoke check of about a minute")
    parser.add_argument("--requests", type=int, help="A: requests per kill (default 2,000)")
    parser.add_argument("--kills", type=int, help="A: kills per channel type (default 3)")
    parser.add_argument("--kill-at", type=float, default=0.3, help="A: fraction at the provider")
    parser.add_argument(
        "--slack-delay", type=float, default=0.02, help="A: seconds the fake Slack takes to answer"
    )
    parser.add_argument("--burst", type=int, help="A: webhook burst requests (default 20,000)")
    parser.add_argument(
        "--hook-requests", type=int, help="B: requests to the hanging webhook (default 1,200)"
    )
    parser.add_argument("--hook-timeout", type=float, default=10.0, help="B: its timeout, s")
    parser.add_argument("--slack-rate", type=float, default=20.0, help="B: Slack requests/s")
    parser.add_argument("--slack-seconds", type=float, help="B: for how long (default 30)")
    parser.add_argument(
        "--slack-failures", type=int, help="B: Slack messages answered 500 once (default 10)"
    )
    parser.add_argument(
        "--b-slack-delay", type=float, default=0.0, help="B: seconds the fake Slack takes"
    )
    parser.add_argument("--max-retries", type=int, default=3, help="B: settings.retry")
    parser.add_argument("--initial-delay", type=float, default=1.0, help="B: settings.retry, s")
    parser.add_argument("--multiplier", type=float, default=2.0, help="B: settings.retry")
    parser.add_argument(
        "--dlq-deadline", type=float, help="B: stop waiting this long after the burst (300 s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the daemon logs")
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    work = Path(tempfile.mkdtemp(prefix="notifierd-faults-"))
    run_id = uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(ADMIN)
    db, pg_url = await create_database(admin)
    redis = Redis.from_url(REDIS_URL)
    env = {**os.environ, "REDIS_URL": REDIS_URL, "POSTGRES_URL": pg_url}
    env["NOTIFIERD_LOG_FORMAT"] = "json"
    bench = Bench(work, run_id, pg_url, redis, env)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"{notifierd_under_test(env, work)}; notifierd run --workers 1",
        flush=True,
    )
    summary: list[str] = []
    lost = 0
    started = time.monotonic()
    try:
        if args.part in ("a", "both"):
            lines, n = await part_a(bench, args)
            summary += lines
            lost += n
        if args.part in ("b", "both"):
            lines, n = await part_b(bench, args)
            summary += lines
            lost += n
    finally:
        keys = [k async for k in redis.scan_iter(match=f"bench:faults{run_id}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()

    print()
    print("\n".join(summary))
    print(f"\n{time.monotonic() - started:.0f}s in all; load average now {os.getloadavg()[0]:.2f}")
    if lost:
        print(f"FAIL: {lost:,} requests lost; daemon logs in {work}")
        return 1
    if args.keep:
        print(f"daemon logs in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("OK: nothing lost")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
