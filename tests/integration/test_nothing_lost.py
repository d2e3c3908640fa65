"""Nothing lost (issue 12): bursts, tight rate limits, flapping alerts, Postgres cuts, provider
429s and two deployments on one Redis must each end with every request delivered and recorded.

Each test drives the in-process daemon against real Redis and Postgres and checks what a user
would: the sink (or the fake Slack) got every delivery exactly once, Postgres records it, and
no request ended ``error`` or ``ignored``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from notifierd.daemon import Daemon, Options
from notifierd.intake.consumer import Consumer
from notifierd.pipeline.intake import IntakeLimits
from notifierd.redisio.keys import Keys
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import (
    QUEUE_CLOSES_ITS_OWN,
    daemon_running,
    write_config,
)
from tests.integration.pg_fixtures import create_database, drop_database
from tests.integration.redis_fixtures import RedisPrefix

# Delivery statuses that are an end; anything else (queued, sending, retrying, ...) is still going.
FINAL = ("delivered", "dead", "suppressed", "deduplicated", "dry_run", "digested")


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The test's own look at the daemon's database (not application_name notifierd)."""
    conn = await asyncpg.connect(pg_url)
    try:
        yield conn
    finally:
        await conn.close()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: Callable[[], Awaitable[str]]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s: {await what()}")


async def outcomes(db: asyncpg.Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each recorded request: its outcome, reason and its deliveries' statuses."""
    rows = await db.fetch(
        """
        SELECT r.id, r.outcome, r.reason,
               coalesce(array_agg(d.status ORDER BY d.channel, d.recipient)
                        FILTER (WHERE d.id IS NOT NULL), '{}') AS deliveries
        FROM requests r LEFT JOIN deliveries d ON d.request_id = r.id
        WHERE r.id = ANY($1::text[])
        GROUP BY r.id
        """,
        list(ids),
    )
    return {
        r["id"]: {"outcome": r["outcome"], "reason": r["reason"], "deliveries": r["deliveries"]}
        for r in rows
    }


def summary(found: dict[str, dict[str, Any]], ids: list[str]) -> str:
    """Counts by outcome plus a sample reason per outcome, for failure messages."""
    by: dict[str, list[str]] = {}
    for rid in ids:
        rec = found.get(rid)
        key = "not recorded" if rec is None else rec["outcome"]
        if rec is not None and rec["outcome"] == "routed":
            key = "routed/" + ",".join(sorted(set(rec["deliveries"])) or ["none"])
        by.setdefault(key, []).append(rid)
    parts = []
    for key, rids in sorted(by.items()):
        rec = found.get(rids[0])
        reason = f" (e.g. {rec['reason']!r})" if rec and rec["reason"] else ""
        parts.append(f"{len(rids)} {key}{reason}")
    return "; ".join(parts)


async def settled(db: asyncpg.Connection, ids: list[str], timeout: float) -> dict[str, Any]:
    """Wait until every request is recorded and each delivery it has is final; the records."""
    found: dict[str, dict[str, Any]] = {}

    async def check() -> bool:
        nonlocal found
        found = await outcomes(db, ids)
        return len(found) == len(ids) and all(
            all(s in FINAL for s in rec["deliveries"])
            and (rec["deliveries"] or rec["outcome"] != "routed")  # routed: rows still to come
            for rec in found.values()
        )

    async def what() -> str:
        return f"{len(found)} of {len(ids)} recorded: {summary(found, ids)}"

    await wait_until(check, timeout, what)
    return found


def assert_all_delivered(found: dict[str, dict[str, Any]], ids: list[str]) -> None:
    bad = [
        rid
        for rid in ids
        if rid not in found
        or found[rid]["outcome"] != "routed"
        or not found[rid]["deliveries"]
        or set(found[rid]["deliveries"]) != {"delivered"}
    ]
    assert not bad, f"{len(bad)} of {len(ids)} not delivered: {summary(found, ids)}"


async def push_all(redis_prefix: RedisPrefix, queue: str, requests: list[dict[str, Any]]) -> None:
    """LPUSH in order, in one round trip: the daemon takes them oldest first."""
    await redis_prefix.redis.lpush(queue, *(json.dumps(r) for r in requests))


def request_ids(sink: WebhookSink) -> list[str]:
    return [b["request_id"] for b in sink.bodies()]


def counts(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


# -- 1. Redis pool exhaustion under a tight rate limit -------------------------------------------

LIMITED = """\
settings:
  dedup_window: 1h
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  limited: {type: webhook, url: "${SINK_URL}"}
rate_limits:
  - %s
routes:
  - name: default
    channels: [limited]
"""


@pytest.mark.parametrize(
    "limit",
    [
        "{channel: limited, limit: 100, window: 1s, algorithm: sliding_window}",
        "{channel: limited, limit: 100, window: 1s, algorithm: token_bucket, burst: 20}",
    ],
    ids=["sliding_window", "token_bucket"],
)
async def test_burst_under_a_tight_rate_limit_delivers_every_request_once(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
    limit: str,
) -> None:
    """Issue 12 §1: 400 requests wait for quota; none may end ``error`` (Too many connections)."""
    total = 400
    ids = [f"burst-{i:03d}" for i in range(total)]
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=LIMITED % limit
    ) as running:
        await push_all(
            redis_prefix, running.queue, [{"id": rid, "title": "t", "message": rid} for rid in ids]
        )
        found = await settled(db, ids, timeout=25)
        errors = sum(found[rid]["outcome"] == "error" for rid in ids)
        assert errors == 0, f"{errors} of {total} ended error: {summary(found, ids)}"
        assert_all_delivered(found, ids)
        assert counts(request_ids(running.sink)) == dict.fromkeys(ids, 1)


# -- 2. One dedup_key shared by a burst ---------------------------------------------------------

PLAIN = """\
settings:
  dedup_window: 1h
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: default
    channels: [sink]
"""


async def test_burst_sharing_one_dedup_key_sends_once_and_dedups_the_rest(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """Issue 12 §1: 200 notifications with one dedup_key: one delivered, 199 deduplicated."""
    total = 200
    ids = [f"dup-{i:03d}" for i in range(total)]
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, routes=PLAIN) as running:
        await push_all(
            redis_prefix,
            running.queue,
            [
                {"id": rid, "title": "db down", "message": rid, "dedup_key": "db-down"}
                for rid in ids
            ],
        )
        found = await settled(db, ids, timeout=20)
        by_outcome = counts(found[rid]["outcome"] for rid in ids)
        assert by_outcome.get("error", 0) == 0, f"ended error: {summary(found, ids)}"
        delivered = [rid for rid in ids if found[rid]["deliveries"] == ["delivered"]]
        assert len(delivered) == 1, summary(found, ids)
        assert by_outcome == {"routed": 1, "deduplicated": total - 1}, summary(found, ids)
        await asyncio.sleep(0.2)
        assert request_ids(running.sink) == delivered


# -- 3. One request to 300 Slack recipients under a rate limit ------------------------------------

FANOUT = 300


def fanout_routes() -> str:
    # The recipients are the route's own, so they are allowed without allow_recipients.
    recipients = ", ".join(f'"#ch{i:03d}"' for i in range(FANOUT))
    return f"""\
settings:
  retry: {{max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}}
channels:
  chat: {{type: slack, token: "${{SLACK_BOT_TOKEN}}", api_url: "${{SLACK_URL}}"}}
rate_limits:
  - {{channel: chat, limit: 100, window: 1s}}
routes:
  - name: everyone
    channels: [chat]
    recipients: [{recipients}]
"""


@pytest.fixture
async def wide_slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlackAPI]:
    """A Slack workspace with 300 channels the bot is in: #ch000 .. #ch299."""
    slack = FakeSlackAPI(channels={f"C{i:05d}": f"ch{i:03d}" for i in range(FANOUT)})
    await slack.start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_URL", slack.url)
    try:
        yield slack
    finally:
        await slack.stop()


async def test_one_request_to_300_slack_recipients_reaches_and_records_all(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
    wide_slack: FakeSlackAPI,
) -> None:
    """Issue 12 §1: 300 deliveries of one request wait for quota; every one sent and recorded."""
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=fanout_routes()
    ) as running:
        rid = await running.push({"title": "All hands", "message": "in 5 minutes"})
        assert rid is not None
        found: dict[str, dict[str, Any]] = {}

        async def all_recorded() -> bool:
            nonlocal found
            found = await outcomes(db, [rid])
            rec = found.get(rid)
            return rec is not None and (
                rec["outcome"] != "routed"
                or (len(rec["deliveries"]) == FANOUT and set(rec["deliveries"]) <= set(FINAL))
            )

        async def what() -> str:
            rec = found.get(rid)
            return f"recorded: {rec and (rec['outcome'], counts(rec['deliveries']))}"

        await wait_until(all_recorded, 20, what)
        assert found[rid]["outcome"] == "routed", summary(found, [rid])
        recorded = counts(found[rid]["deliveries"])
        assert recorded == {"delivered": FANOUT}, f"deliveries recorded: {recorded}"
        posted = counts(m["channel"] for m in wide_slack.messages)
        assert posted == {f"C{i:05d}": 1 for i in range(FANOUT)}, (
            f"{len(posted)} of {FANOUT} channels got a message"
        )


async def test_intake_takes_no_more_while_too_many_deliveries_wait(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
    wide_slack: FakeSlackAPI,
) -> None:
    """One request whose 300 deliveries wait for quota fills the budget of waiting deliveries:
    the requests behind it stay in Redis (not in memory) until the quota lets them through."""
    routes = fanout_routes().replace(
        "routes:\n",
        "routes:\n  - {name: one, matchers: ['title=\"later\"'], channels: [chat], "
        'recipients: ["#ch000"]}\n',
    )
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=routes
    ) as running:
        running.daemon.services.intake.limits = IntakeLimits(max_waiting_deliveries=100)
        big = await running.push({"title": "All hands", "message": "in 5 minutes"})
        await asyncio.sleep(0.3)  # taken; its deliveries now wait at 100 per second
        behind = [await running.push({"title": "later", "message": str(i)}) for i in range(10)]
        await asyncio.sleep(0.5)
        assert (
            await running.daemon.services.consumer.queue_depth() == 10
        )  # not taken while they wait
        ids = [rid for rid in (big, *behind) if rid]
        found = await settled(db, ids, timeout=20)
        assert counts(found[big]["deliveries"]) == {"delivered": FANOUT}
        assert all(found[rid]["deliveries"] == ["delivered"] for rid in behind)


# -- 4. Postgres connections cut during a burst of alerts -----------------------------------------

ALERTS = (
    """\
settings:
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
  - name: default
    channels: [sink]
"""
    + QUEUE_CLOSES_ITS_OWN
)


async def cut_daemon_connections(db: asyncpg.Connection) -> int:
    """Terminate every backend of the daemon (application_name notifierd) in this database."""
    return len(
        await db.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'notifierd' "
            "AND pid <> pg_backend_pid()"
        )
    )


async def test_postgres_cut_during_an_alert_burst_loses_no_alert(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """Issue 12 §2: a connection cut is never a request's outcome; every alert opens and sends."""
    total = 300
    ids = [f"alert-{i:03d}" for i in range(total)]
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ALERTS
    ) as running:
        running.sink.delay = 0.02  # a receiver that takes a moment: more work in flight at a cut
        await push_all(
            redis_prefix,
            running.queue,
            [
                {"id": rid, "kind": "alert", "title": "disk full", "message": rid, "dedup_key": rid}
                for rid in ids
            ],
        )
        cuts = 0
        for _ in range(8):  # cut the daemon's connections a few times while the burst runs
            await asyncio.sleep(0.15)
            cuts += await cut_daemon_connections(db)
        assert cuts > 0
        found = await settled(db, ids, timeout=25)
        errors = sum(found[rid]["outcome"] == "error" for rid in ids)
        assert errors == 0, f"{errors} of {total} ended error: {summary(found, ids)}"
        opened = {r["dedup_key"] for r in await db.fetch("SELECT dedup_key FROM alerts")}
        assert opened == set(ids), f"{len(set(ids) - opened)} of {total} alerts never opened"
        assert_all_delivered(found, ids)
        assert set(request_ids(running.sink)) == set(ids)


# -- 5. A resolve in the same intake batch as its trigger -----------------------------------------


async def test_resolve_in_the_same_batch_as_its_trigger_resolves_the_alert(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """Issue 12 §3: requests for one alert apply in queue order, even when taken together."""
    keys = [f"flap-{i:02d}" for i in range(50)]
    requests = []
    for key in keys:  # each trigger right before its resolve, all waiting when the daemon starts
        requests.append(
            {
                "id": f"{key}-trigger",
                "kind": "alert",
                "title": key,
                "message": "down",
                "dedup_key": key,
            }
        )
        requests.append(
            {
                "id": f"{key}-resolve",
                "kind": "alert",
                "action": "resolve",
                "title": key,
                "message": "up again",
                "dedup_key": key,
            }
        )
    ids = [r["id"] for r in requests]
    await push_all(redis_prefix, f"{redis_prefix.prefix}:requests", requests)
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ALERTS
    ) as running:
        found = await settled(db, ids, timeout=20)
        ignored = [rid for rid in ids if found[rid]["outcome"] in ("ignored", "error")]
        assert not ignored, f"{len(ignored)} of {len(ids)} ignored or error: {summary(found, ids)}"
        alerts = await db.fetch("SELECT dedup_key, status FROM alerts ORDER BY dedup_key")
        statuses = {key: [r["status"] for r in alerts if r["dedup_key"] == key] for key in keys}
        not_resolved = {k: s for k, s in statuses.items() if s != ["resolved"]}
        assert not not_resolved, (
            f"{len(not_resolved)} of {len(keys)} alerts not (only) resolved: "
            f"{dict(list(not_resolved.items())[:5])}"
        )
        # The channels its trigger reached hear that it is resolved (PagerDuty's resolve, too).
        told = set(request_ids(running.sink))
        untold = [key for key in keys if f"{key}-trigger:resolve" not in told]
        assert not untold, f"{len(untold)} of {len(keys)} resolves never reached the sink"


# -- 6. Provider 429s are a wait, not a failed attempt --------------------------------------------


class ThrottledSlack(FakeSlackAPI):
    """Slack that answers chat.postMessage with 429 + Retry-After while ``throttle_until`` (a
    monotonic time) is ahead, or beyond ``per_second`` messages in any one second."""

    def __init__(self, *, per_second: int | None = None, retry_after: int = 1) -> None:
        super().__init__()
        self.per_second = per_second
        self.retry_after = retry_after
        self.throttle_until = 0.0
        self.refused = 0
        self._admitted: list[float] = []

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage":
            now = time.monotonic()
            self._admitted = [t for t in self._admitted if t > now - 1.0]
            if now < self.throttle_until or (
                self.per_second is not None and len(self._admitted) >= self.per_second
            ):
                self.refused += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(self.retry_after)},
                )
            self._admitted.append(now)
        return await super()._api(request)


SLACK_429 = """\
settings:
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}", default_recipients: ["#ops"]}
routes:
  - name: default
    channels: [chat]
"""


@asynccontextmanager
async def throttled_slack(
    monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> AsyncIterator[ThrottledSlack]:
    slack = ThrottledSlack(**kwargs)
    await slack.start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_URL", slack.url)
    try:
        yield slack
    finally:
        await slack.stop()


@pytest.mark.parametrize(
    ("episode", "per_second"),
    [(4.0, None), (0.0, 5)],
    ids=["a-4s-429-episode", "5-per-second"],
)
async def test_slack_429s_delay_but_dead_letter_nothing(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
    episode: float,
    per_second: int | None,
) -> None:
    """Issue 12 §5: 30 messages while Slack rate-limits (an episode of 429s, or a provider that
    admits 5 a second): every message delivered, none dead-lettered."""
    ids = [f"msg-{i:02d}" for i in range(30)]
    async with throttled_slack(monkeypatch, per_second=per_second) as slack:
        slack.throttle_until = time.monotonic() + episode
        async with daemon_running(
            tmp_path, pg_url, redis_prefix, monkeypatch, routes=SLACK_429
        ) as running:
            await push_all(
                redis_prefix,
                running.queue,
                [{"id": rid, "title": "deploy", "message": rid} for rid in ids],
            )
            found = await settled(db, ids, timeout=25)
            assert slack.refused > 0  # the provider did rate-limit
            dead = await db.fetch("SELECT request_id, error FROM dead_letters")
            assert not dead, f"{len(dead)} of {len(ids)} dead-lettered, e.g. {dead[0]['error']!r}"
            assert_all_delivered(found, ids)
            posted = [m["text"] for m in slack.messages]
            assert sorted(t.split("\n")[-1] for t in posted) == ids


# -- 7. Two deployments on one Redis: recovery stays in its own queue -----------------------------

DEPLOYMENT = """\
settings:
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  sink: {type: webhook, url: "${%s}"}
routes:
  - name: default
    channels: [sink]
"""


@asynccontextmanager
async def deployment(
    config: Path, pg_url: str, redis_prefix: RedisPrefix, queue: str
) -> AsyncIterator[Daemon]:
    """A daemon of one deployment: its own config, database and queue, the default-style shared
    key prefix."""
    daemon = Daemon(
        Options(
            config_dir=config,
            redis_url=redis_prefix.url,
            postgres_url=pg_url,
            key_prefix=redis_prefix.prefix,
            queue=queue,
            watch=False,
            shutdown_timeout=5.0,
            heartbeat_ttl=3.0,
        )
    )
    await daemon.start()
    try:
        yield daemon
    finally:
        daemon.request_stop()
        await daemon.stop()


async def test_recovered_requests_go_back_to_their_own_queue(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """Issue 12 §6: deployment A (queue qa) dies holding requests while deployment B (queue qb)
    runs on the same Redis and prefix: A's requests go back to qa, to A's sink, never to B."""
    prefix = redis_prefix.prefix
    qa, qb = f"{prefix}:qa", f"{prefix}:qb"
    sink_a, sink_b = WebhookSink(), WebhookSink()
    await sink_a.start()
    await sink_b.start()
    monkeypatch.setenv("SINK_A_URL", sink_a.url)
    monkeypatch.setenv("SINK_B_URL", sink_b.url)
    config_a = write_config(tmp_path / "a", DEPLOYMENT % "SINK_A_URL")
    config_b = write_config(tmp_path / "b", DEPLOYMENT % "SINK_B_URL")
    db_b_name, db_b_url = await create_database()
    ids = [f"a-{i:02d}" for i in range(20)]
    try:
        # A's consumer took 20 requests from qa, then died (no ack, heartbeat left to expire).
        await push_all(
            redis_prefix, qa, [{"id": rid, "title": "for A", "message": rid} for rid in ids]
        )
        crashed = Consumer(redis_prefix.redis, Keys(prefix, qa), "a-crashed", heartbeat_ttl=0.3)
        await crashed.start()
        assert len(await crashed.fetch(len(ids), timeout=0)) == len(ids)
        await crashed.stop()  # stops beating; stays registered because it still holds requests
        await asyncio.sleep(0.5)  # its heartbeat has expired

        async with deployment(config_b, db_b_url, redis_prefix, qb):
            await asyncio.sleep(1.5)  # B recovers dead consumers at start and every second
            async with deployment(config_a, pg_url, redis_prefix, qa):

                async def a_has_all() -> bool:
                    return set(request_ids(sink_a)) == set(ids)

                async def what() -> str:
                    return (
                        f"A's sink got {len(set(request_ids(sink_a)) & set(ids))} of {len(ids)}; "
                        f"B's sink got {len(set(request_ids(sink_b)) & set(ids))} of A's requests"
                    )

                await wait_until(a_has_all, 10, what)
                found = await settled(db, ids, timeout=10)
                assert_all_delivered(found, ids)
        assert not set(request_ids(sink_b)) & set(ids), "B delivered A's requests"
        conn_b = await asyncpg.connect(db_b_url)
        try:
            in_b = await conn_b.fetchval(
                "SELECT count(*) FROM requests WHERE id = ANY($1::text[])", ids
            )
        finally:
            await conn_b.close()
        assert in_b == 0, f"B recorded {in_b} of A's requests in its own database"
    finally:
        await sink_a.stop()
        await sink_b.stop()
        await drop_database(db_b_name)


async def test_two_replicas_apply_each_alerts_requests_in_queue_order(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """A flapping alert (trigger, resolve, trigger again) whose requests two replicas take in
    different batches: applied in queue order, the first alert ends resolved and the second
    one open. Out of order, the second trigger would join the first alert, or the resolve
    would find no alert, or close the second one."""
    keys = [f"flap-{i:03d}" for i in range(100)]
    waves = [
        [
            {"id": f"{k}-t1", "kind": "alert", "title": k, "message": "down", "dedup_key": k}
            for k in keys
        ],
        [
            {"id": f"{k}-r1", "kind": "alert", "action": "resolve", "message": "up", "dedup_key": k}
            for k in keys
        ],
        [
            {"id": f"{k}-t2", "kind": "alert", "title": k, "message": "down", "dedup_key": k}
            for k in keys
        ],
    ]
    requests = [r for wave in waves for r in wave]  # one wave per batch: each replica gets some
    ids = [r["id"] for r in requests]
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    try:
        shared = {"routes": ALERTS, "sink": sink, "flaky": flaky}
        async with (
            daemon_running(tmp_path / "a", pg_url, redis_prefix, monkeypatch, **shared) as a,
            daemon_running(tmp_path / "b", pg_url, redis_prefix, monkeypatch, **shared) as b,
        ):
            taken = {"a": 0, "b": 0}
            for name, running in (("a", a), ("b", b)):
                consumer = running.daemon.services.consumer
                fetch = consumer.fetch

                async def counted(*args, name=name, fetch=fetch, **kwargs) -> list[bytes]:  # type: ignore[no-untyped-def]
                    got = await fetch(*args, **kwargs)
                    taken[name] += len(got)
                    return got

                consumer.fetch = counted  # type: ignore[method-assign]
                # Small batches, so that the two replicas' batches interleave.
                running.daemon.services.intake.limits = IntakeLimits(batch=7)
            await asyncio.sleep(0.6)  # a fetch waiting since before the swap times out (0.5 s)
            await push_all(redis_prefix, a.queue, requests)
            found = await settled(db, ids, timeout=20)
            bad = [rid for rid in ids if found[rid]["outcome"] in ("ignored", "error", "joined")]
            assert not bad, f"{len(bad)} of {len(ids)}: {summary(found, bad)}"
            rows = await db.fetch(
                "SELECT id, dedup_key, status FROM alerts ORDER BY dedup_key, started_at"
            )
            by_key: dict[str, list[tuple[str, str]]] = {}
            for row in rows:
                by_key.setdefault(row["dedup_key"], []).append((row["id"], row["status"]))
            wrong = {
                k: v
                for k, v in by_key.items()
                if v != [(f"{k}-t1", "resolved"), (f"{k}-t2", "triggered")]
            }
            assert not wrong, f"{len(wrong)} of {len(keys)}: {dict(list(wrong.items())[:3])}"
            # Both replicas took requests (else this would not test order across them), and
            # every request was taken once: a handed-over one counts for its owner only.
            assert taken["a"] > 0 and taken["b"] > 0, taken
            assert taken["a"] + taken["b"] == len(ids), taken
    finally:
        await sink.stop()
        await flaky.stop()


async def test_requests_a_fetch_took_before_its_reply_was_lost_are_processed_first(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """The fetch script ran but its reply never came (a connection cut mid-call): the trigger
    it took is processed, and before the resolve that follows it in the queue."""
    trigger = {"id": "t", "kind": "alert", "title": "db", "message": "down", "dedup_key": "db"}
    resolve = {"id": "r", "kind": "alert", "action": "resolve", "message": "up", "dedup_key": "db"}
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ALERTS
    ) as running:
        consumer = running.daemon.services.consumer
        fetch = consumer.fetch
        lost: list[bytes] = []

        async def reply_lost_once(*args: Any, **kwargs: Any) -> list[bytes]:
            got = await fetch(*args, **kwargs)
            if got and not lost:
                lost.extend(got)
                raise ConnectionError("Connection reset by peer")
            return got

        consumer.fetch = reply_lost_once  # type: ignore[method-assign]
        await asyncio.sleep(0.6)  # a fetch waiting since before the swap times out (0.5 s)
        await push_all(redis_prefix, running.queue, [trigger])
        await wait_until(
            lambda: asyncio.sleep(0, bool(lost)), 5, lambda: asyncio.sleep(0, "no fetch")
        )
        await push_all(redis_prefix, running.queue, [resolve])
        found = await settled(db, ["t", "r"], timeout=10)
        assert (found["t"]["outcome"], found["r"]["outcome"]) == ("routed", "resolved")
        [status] = [r["status"] for r in await db.fetch("SELECT status FROM alerts")]
        assert status == "resolved"
        await running.idle()
