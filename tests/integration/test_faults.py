"""Faults at the edges: a Postgres failover, a provider's NUL bytes, retries waiting for quota
on two replicas, a shutdown during a slow commit. Each ends with every message sent once."""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from notifierd.pipeline.deliver import message_json
from notifierd.store.records import DeliveryRecord, RequestRecord
from notifierd.templates.message import RenderedMessage
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import (
    QUEUE_CLOSES_ITS_OWN,
    daemon_running,
    start_daemon,
)
from tests.integration.pg_fixtures import ADMIN_URL
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = (
    """\
settings:
  retry: {max_retries: 3, initial_delay: 200ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
routes:
  - name: flaky
    matchers: ['target="flaky"']
    channels: [flaky]
  - name: default
    channels: [sink]
"""
    + QUEUE_CLOSES_ITS_OWN
)


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_url)
    try:
        yield conn
    finally:
        await conn.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def sends(sink: WebhookSink) -> collections.Counter[str]:
    return collections.Counter(body["request_id"] for body in sink.bodies())


async def read_only(pg_url: str, on: bool) -> None:
    """What a failover onto a standby looks like to the daemon: every write refused (25006),
    its connections cut."""
    name = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}'
        )
        await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()


async def test_a_failover_to_a_read_only_server_is_waited_out(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes refused as read-only are Postgres being away, not a bug: the trigger taken
    meanwhile is recorded once the server takes writes again, and its resolve finds it."""
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES) as r:
        await read_only(pg_url, True)
        trigger = {"kind": "alert", "dedup_key": "db-down", "title": "db", "message": "down"}
        await r.push({"id": "t1", **trigger})
        await asyncio.sleep(2.0)
        await read_only(pg_url, False)
        await r.store.pool.expire_connections()  # the test's own were cut too: fresh ones
        await r.push({"id": "r1", "kind": "alert", "action": "resolve", "dedup_key": "db-down"})
        await r.status("r1", until=("resolved",), timeout=20)
        trigger_status = await r.status("t1")
        assert trigger_status["outcome"] == "routed"
        db = await asyncpg.connect(pg_url)
        try:
            alerts = [row["status"] for row in await db.fetch("SELECT status FROM alerts")]
        finally:
            await db.close()
        assert alerts == ["resolved"]
        assert await r.store.dlq_list(None, 10) == []
        await r.idle()


async def test_a_provider_error_with_a_nul_byte_is_stored_and_spoils_no_other_retry(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postgres refuses NUL in text; a provider's error body may hold one. Stored escaped, it
    neither costs the other retries of the batch their records nor sends them again."""
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES) as r:
        r.daemon.services.retrier.lease = (
            2.0  # a batch left claimed would be sent again within the test
        )
        r.sink.status = r.flaky.status = 500
        ok = await r.push({"title": "fine"})
        bad = await r.push({"title": "garbled", "labels": {"target": "flaky"}})
        assert ok is not None and bad is not None
        await r.status(ok, until=("in_progress",))
        r.sink.status = 200
        r.flaky.body = "upstream \x00 garbage"
        assert (await r.status(ok, until=("delivered",)))["status"] == "delivered"
        failed = await r.status(bad, until=("failed",), timeout=20)
        assert "\\x00 garbage" in failed["deliveries"][0]["error"]
        assert sends(r.sink)[ok] == 2  # refused once (HTTP 500), then accepted
        await asyncio.sleep(3)  # past a lease: a delivery left claimed would go out again
        assert sends(r.sink)[ok] == 2


async def test_retries_waiting_for_quota_on_two_replicas_are_sent_once(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claimed retry never waits for rate-limit quota past its lease (another replica would
    claim it again and both would send): a long wait is recorded and the retry comes back."""
    routes = """\
settings:
  retry: {max_retries: 3, initial_delay: 1s, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  limited: {type: webhook, url: "${SINK_URL}"}
rate_limits:
  - {channel: limited, limit: 1, window: 1s}
routes:
  - name: default
    channels: [limited]
"""
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    shared = {"routes": routes, "sink": sink, "flaky": flaky}
    try:
        async with (
            daemon_running(tmp_path / "a", pg_url, redis_prefix, monkeypatch, **shared) as a,
            daemon_running(tmp_path / "b", pg_url, redis_prefix, monkeypatch, **shared) as b,
        ):
            for replica in (a, b):
                replica.daemon.services.retrier.lease = 3.0  # 120 s in production
            now = datetime.now(UTC)
            rendered = message_json(RenderedMessage(subject="s", text="t"))
            ids = [f"r{i}" for i in range(8)]
            await a.store.write_batch(
                [
                    RequestRecord(
                        rid, "notification", "routed", json.dumps({"id": rid, "title": "s"}), now
                    )
                    for rid in ids
                ],
                [
                    DeliveryRecord(
                        rid,
                        "limited",
                        "webhook",
                        "",
                        "retrying",
                        1,
                        "HTTP 500",
                        rendered=rendered,
                        next_attempt_at=now,
                    )
                    for rid in ids
                ],
            )

            async def all_delivered() -> bool:
                statuses = [(await a.store.request_status(rid) or {}).get("status") for rid in ids]
                return statuses == ["delivered"] * len(ids)

            await eventually(all_delivered, 20, f"8 retries at 1/s delivered: {sends(sink)}")
            await asyncio.sleep(3.5)  # past a lease: one claimed twice would be sent again
            assert sends(sink) == dict.fromkeys(ids, 1)
    finally:
        await sink.stop()
        await flaky.stop()


async def test_shutdown_during_a_slow_commit_does_not_return_what_was_sent(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """A request sent and handed to the recorder is recorded and acknowledged by it, even when
    the commit outlasts the shutdown timeout: returned to the queue too, it would be sent
    again by whoever takes it next."""
    gen = start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES)
    r = await gen.__anext__()
    stopping: asyncio.Task[None] | None = None
    try:
        await db.execute("BEGIN")
        await db.execute("LOCK TABLE requests IN ACCESS EXCLUSIVE MODE")  # commits wait
        rid = await r.push({"title": "deployed"})
        await eventually(lambda: asyncio.sleep(0, len(r.sink.received) == 1), 5, "sent")
        stopping = asyncio.create_task(gen.aclose())  # daemon.stop, shutdown timeout 5 s
        await asyncio.sleep(5.5)  # past the shutdown timeout, the commit still waiting
        queued = await redis_prefix.redis.lrange(r.queue, 0, -1)
        assert queued == [], "a request already sent was returned to the queue"
        await db.execute("COMMIT")
        await stopping
        stopping = None
        row = await db.fetchrow("SELECT outcome FROM requests WHERE id = $1", rid)
        assert row is not None and row["outcome"] == "routed"
        assert (
            await redis_prefix.redis.llen(
                r.daemon.services.keys.processing(r.daemon.services.consumer.id)
            )
            == 0
        )
        assert sends(r.sink) == {rid: 1}
    finally:
        if stopping is not None:
            await db.execute("ROLLBACK")
            await stopping
