"""The daemon in-process against real Redis and Postgres, delivering to local webhook sinks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        yield r


async def test_request_is_delivered_recorded_and_acked(running: Running) -> None:
    rid = await running.push({"title": "Deployed", "message": "v2.1.0 is live", "tags": ["deploy"]})
    status = await running.status(rid)
    assert status["status"] == "delivered"
    [delivery] = status["deliveries"]
    assert (delivery["channel"], delivery["status"], delivery["attempts"]) == (
        "sink",
        "delivered",
        1,
    )
    assert [e["status"] for e in delivery["history"]] == ["delivered"]
    [hit] = running.sink.received
    body = hit.json()
    assert (
        body["request_id"] == rid
        and body["subject"] == "Deployed"
        and body["text"] == "v2.1.0 is live"
    )
    assert running.sink.verify(hit, "s3cret")
    assert hit.headers["X-Notifierd-Delivery"] == delivery["id"]
    await running.idle()


async def test_transient_failures_retry_then_succeed(running: Running) -> None:
    running.flaky.fail_next(2, 503)
    rid = await running.push({"labels": {"target": "flaky"}})
    status = await running.status(rid)
    [delivery] = status["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
    assert [e["status"] for e in delivery["history"]] == ["retrying", "retrying", "delivered"]
    assert len(running.flaky.received) == 3


async def test_permanent_failure_goes_to_the_dead_letter_queue(running: Running) -> None:
    running.flaky.status = 404
    rid = await running.push({"labels": {"target": "flaky"}})
    status = await running.status(rid)
    assert status["status"] == "failed"
    [delivery] = status["deliveries"]
    assert delivery["status"] == "dead" and delivery["attempts"] == 1 and "404" in delivery["error"]
    dlq = await running.store.dlq_list(None, 10)
    assert [r.request_id for r in dlq] == [rid]


async def test_exhausted_retries_are_dead_lettered(running: Running) -> None:
    running.flaky.status = 500
    rid = await running.push({"labels": {"target": "flaky"}})
    status = await running.status(rid, timeout=20)
    [delivery] = status["deliveries"]
    assert delivery["status"] == "dead" and delivery["attempts"] == 4  # 1 try + 3 retries
    assert delivery["error"].startswith("gave up after 4 attempts")


async def test_429_retry_after_is_honoured_and_is_not_an_attempt(running: Running) -> None:
    running.flaky.fail_next(1, 429, headers={"Retry-After": "1"})
    start = time.monotonic()
    rid = await running.push({"labels": {"target": "flaky"}})
    status = await running.status(rid)
    [delivery] = status["deliveries"]
    assert delivery["status"] == "delivered"
    assert len(running.flaky.received) == 2  # refused once, then sent after its Retry-After
    assert time.monotonic() - start >= 1.0
    # The refusal was a wait: only the send that went through counts as an attempt.
    assert delivery["attempts"] == 1
    assert [h["status"] for h in delivery["history"]] == ["retrying", "delivered"]
    assert delivery["history"][0]["error"].startswith("rate limited: ")


async def test_rate_limit_delays_but_delivers_everything(running: Running) -> None:
    start = time.monotonic()
    ids = [await running.push({"labels": {"target": "limited"}}) for _ in range(12)]
    for rid in ids:
        assert rid is not None
        assert (await running.status(rid))["status"] == "delivered"
    # 5 per second: 12 deliveries need at least two full windows after the first five.
    assert time.monotonic() - start >= 2.0
    assert len(running.sink.received) == 12


async def test_dedup_key_sends_once_within_the_window(running: Running) -> None:
    first = await running.push({"dedup_key": "db-down"})
    assert (await running.status(first))["status"] == "delivered"
    second = await running.push({"dedup_key": "db-down"})
    status = await running.status(second)
    assert status["status"] == "deduplicated" and first in status["reason"]
    # Where it would have gone is on record, held back, with the reason.
    [held] = status["deliveries"]
    assert held["channel"] == "sink" and held["status"] == "deduplicated"
    assert first in held["note"] and [e["status"] for e in held["history"]] == ["deduplicated"]
    assert len(running.sink.received) == 1


async def test_suppression_window_records_without_sending(running: Running) -> None:
    rid = await running.push({"labels": {"service": "db"}})
    status = await running.status(rid)
    assert status["status"] == "suppressed"
    assert [d["status"] for d in status["deliveries"]] == ["suppressed"]
    await running.idle()
    assert running.sink.received == []


async def test_same_id_twice_delivers_once(running: Running) -> None:
    request = {"id": "same-id", "title": "once", "message": "only once"}
    await running.push(request)
    await running.push(request)
    await running.idle()
    status = await running.status("same-id")
    assert status["status"] == "delivered" and len(status["deliveries"]) == 1
    assert len(running.sink.received) == 1


async def test_malformed_requests_are_rejected_and_the_daemon_lives(running: Running) -> None:
    garbage = [
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"priority": "urgent", "title": "x", "message": "y"}',
        b'{"priority": "low"}',
    ] * 200
    for raw in garbage:
        await running.push(raw)
    await running.idle(timeout=30)
    assert await running.daemon.services.consumer.rejected_depth() == 1000
    async with running.store.pool.acquire() as conn:
        reasons = [r["reason"] for r in await conn.fetch("SELECT reason FROM rejected_requests")]
    assert len(reasons) == 1000
    assert any("'priority' must be one of" in r for r in reasons)
    rid = await running.push({"title": "still alive"})
    assert (await running.status(rid))["status"] == "delivered"


async def test_a_huge_rejected_request_is_kept_as_a_bounded_prefix_and_its_size(
    running: Running,
) -> None:
    huge = b'{"title": "big", "message": "' + "é".encode() * (5 << 20) + b'"}'  # 10 MiB
    await running.push(huge)
    await running.idle(timeout=30)
    async with running.store.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT raw, raw_size, reason FROM rejected_requests")
    assert row["raw_size"] == len(huge)
    assert huge.startswith(row["raw"].encode()) and len(row["raw"].encode()) <= 64 * 1024
    assert "larger than the 1.0 MiB limit" in row["reason"]
    keys = running.daemon.services.consumer.keys
    (stored,) = await running.redis.redis.lrange(keys.rejected, 0, -1)
    assert len(stored) < 65 * 1024
    record = json.loads(stored)
    assert (record["size"], record["truncated"], record["encoding"]) == (len(huge), True, "utf-8")
    assert huge.startswith(record["raw"].encode())


async def test_dry_run_records_the_payload_and_sends_nothing(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, dry_run=True):
        rid = await running.push({"title": "Dry", "message": "nothing leaves"})
        status = await running.status(rid)
        assert status["status"] == "dry_run"
        [delivery] = status["deliveries"]
        assert (
            delivery["rendered"]["subject"] == "Dry"
            and delivery["rendered"]["text"] == "nothing leaves"
        )
        assert running.sink.received == []


async def test_config_reload_valid_then_invalid(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, watch=True):
        before = running.daemon.services.holder.active.id
        # A valid change: everything labelled target=flaky now goes to the sink instead.
        (running.config / "routes.yaml").write_text(
            ROUTES.replace("channels: [flaky]", "channels: [sink]")
        )
        for _ in range(100):
            if running.daemon.services.holder.active.id != before:
                break
            await asyncio.sleep(0.1)
        assert running.daemon.services.holder.active.id != before
        rid = await running.push({"labels": {"target": "flaky"}})
        assert (await running.status(rid))["deliveries"][0]["channel"] == "sink"
        good = running.daemon.services.holder.active.id
        # An invalid change is refused; the last good config stays active.
        (running.config / "routes.yaml").write_text(
            ROUTES.replace("channels: [sink]", "channels: [nope]")
        )
        assert await running.daemon.reload("test") is False
        assert running.daemon.services.holder.active.id == good
        rid = await running.push({"title": "after a refused reload"})
        assert (await running.status(rid))["status"] == "delivered"


async def test_graceful_stop_returns_unfinished_work(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        running.flaky.delay = 30  # a receiver that hangs longer than the shutdown timeout
        running.daemon.options.shutdown_timeout = 0.5
        rid = await running.push({"labels": {"target": "flaky"}})
        for _ in range(100):
            if running.flaky.requests:
                break
            await asyncio.sleep(0.05)
        await running.daemon.stop()
        # Nothing recorded, and the request is back on the queue for the next daemon.
        assert await running.store.request_status(rid) is None
        assert await running.redis.redis.llen(running.queue) == 1
        running.flaky.delay = 0
