"""A request pushed without an id (a producer's plain LPUSH) is given one at intake, and keeps
it: taken again after a crash between its record and its ack, it is the same request, and what
it delivered is not sent twice (PRODUCT.md: at-least-once intake, with idempotency)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import redis.exceptions

from notifierd.intake.consumer import Consumer
from notifierd.redisio.keys import Scripts
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import daemon_running
from tests.integration.redis_fixtures import RedisPrefix

RAW = b' {"title": "disk full",  "message": "sda1 at 97%"}'


async def eventually(check: Any, what: str, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def test_a_request_without_an_id_recovered_after_its_record_is_not_sent_again(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    shared = {"sink": sink, "flaky": flaky}

    async def ack_lost(self: Consumer, raws: Sequence[bytes]) -> int:
        return len(raws)  # the worker died after the commit, before its ack reached Redis

    try:
        with monkeypatch.context() as crash:
            crash.setattr(Consumer, "ack", ack_lost)
            async with daemon_running(
                tmp_path / "a", pg_url, redis_prefix, monkeypatch, consumer_id="a", **shared
            ) as a:
                await a.redis.redis.lpush(a.queue, RAW)

                async def recorded() -> bool:
                    return bool(
                        await a.store.pool.fetchval(
                            "SELECT count(*) FROM deliveries WHERE status = 'delivered'"
                        )
                    )

                await eventually(recorded, "the request was not delivered and recorded")
                keys = a.daemon.services.keys
                held = await a.redis.redis.lrange(keys.processing("a"), 0, -1)
        await redis_prefix.redis.delete(keys.heartbeat("a"))  # dead: the next daemon recovers
        # Still held by the dead consumer, as taken but with the id it was given.
        (stamped,) = held
        request = json.loads(stamped)
        assert request == {"id": request["id"], **json.loads(RAW)}
        assert stamped.endswith(RAW[2:])  # the producer's bytes kept as they were

        async with daemon_running(
            tmp_path / "b", pg_url, redis_prefix, monkeypatch, consumer_id="b", **shared
        ) as b:  # recovers what "a" held once its heartbeat is gone, and processes it

            async def settled() -> bool:
                return not any(
                    [
                        await b.redis.redis.llen(b.daemon.services.keys.processing("a")),
                        await b.redis.redis.llen(b.queue),
                        await b.redis.redis.llen(b.daemon.services.keys.processing("b")),
                    ]
                )

            await eventually(settled, "the dead consumer's request was not taken up")
            rows = await b.store.pool.fetch("SELECT id FROM requests")
        assert [r["id"] for r in rows] == [request["id"]]
        assert [body["request_id"] for body in sink.bodies()] == [request["id"]]
        # No order key left owned, nothing left handed over.
        left = [key async for key in redis_prefix.redis.scan_iter(f"{redis_prefix.prefix}:*")]
        assert not [k for k in left if b":owner:" in k or b":handoff:" in k], left
    finally:
        await sink.stop()
        await flaky.stop()


async def test_a_request_another_replica_recovered_before_its_stamp_is_left_to_it(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def recovered_meanwhile(self: Consumer, pairs: Sequence[tuple[bytes, bytes]]) -> list:
        return [False for _ in pairs]  # no longer in our processing list

    monkeypatch.setattr(Consumer, "stamp", recovered_meanwhile)
    caplog.set_level(logging.WARNING, logger="notifierd.pipeline.intake")
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch) as r:
        await r.redis.redis.lpush(r.queue, RAW)
        await r.push({"id": "with-an-id", "title": "sent"})  # taken after it, sent
        await r.status("with-an-id")
        await asyncio.sleep(0.5)  # the first one's send, had it been made, has arrived by now
        rows = await r.store.pool.fetch("SELECT id FROM requests")
    assert [row["id"] for row in rows] == ["with-an-id"]
    assert [body["request_id"] for body in r.sink.bodies()] == ["with-an-id"]
    assert "requeued by another replica meanwhile: left to it" in caplog.text


async def test_a_stamp_whose_reply_was_lost_is_run_again_and_sends_once(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_stamp = Consumer.stamp
    lost: list[int] = []

    async def reply_lost(self: Consumer, pairs: Sequence[tuple[bytes, bytes]]) -> list[bool]:
        if not lost:  # the first call runs in Redis; its answer never comes back
            lost.append(len(pairs))
            processing = self.keys.processing(self.id)
            await Scripts.register(self.redis).stamp(
                keys=[processing], args=[*itertools.chain(*pairs)]
            )
            raise redis.exceptions.ConnectionError("Connection reset by peer")
        return await real_stamp(self, pairs)

    monkeypatch.setattr(Consumer, "stamp", reply_lost)
    caplog.set_level(logging.INFO, logger="notifierd.intake")
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, consumer_id="a") as r:
        await r.redis.redis.lpush(r.queue, RAW)

        async def settled() -> bool:
            processing = r.daemon.services.keys.processing("a")
            return bool(r.sink.bodies()) and not await r.redis.redis.llen(processing)

        await eventually(settled, "the request was not sent and acknowledged")
        await asyncio.sleep(0.5)  # a second send, had one been made, has arrived by now
        rows = await r.store.pool.fetch("SELECT id FROM requests")
    assert lost == [1]
    [body] = r.sink.bodies()
    assert [row["id"] for row in rows] == [body["request_id"]]
    # Waited out as Redis being away, not a failed dispatch with its traceback.
    [warning] = [
        rec
        for rec in caplog.records
        if rec.name == "notifierd.intake" and rec.levelno >= logging.WARNING
    ]
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert getattr(warning, "event", None) == "redis_unavailable", warning.getMessage()
    assert "writing the ids given to requests pushed without one failed" in warning.getMessage()


async def test_a_daemon_stopped_while_waiting_to_stamp_gives_the_request_back(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = asyncio.Event()

    async def redis_away(self: Consumer, pairs: Sequence[tuple[bytes, bytes]]) -> list[bool]:
        tried.set()
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(Consumer, "stamp", redis_away)
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, consumer_id="a") as r:
        await r.redis.redis.lpush(r.queue, RAW)
        await asyncio.wait_for(tried.wait(), 15)
        keys = r.daemon.services.keys
    # Stopped while it waited: the request is back on the queue as it came, nothing was sent.
    assert await redis_prefix.redis.lrange(keys.processing("a"), 0, -1) == []
    assert await redis_prefix.redis.lrange(keys.queue, 0, -1) == [RAW]
    assert r.sink.bodies() == []
