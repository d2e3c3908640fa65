"""kill -9 in the middle of a burst, restart: every request delivered once in Postgres, none lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg

from notifierd.intake.consumer import recover
from notifierd.redisio.keys import Keys
from tests.e2e.conftest import DaemonProcess, write_sink_config
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix

TOTAL = 2000


async def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def test_kill_9_mid_burst_then_restart_loses_nothing(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    sink = WebhookSink()
    sink.delay = 0.005  # a receiver that takes a moment, so deliveries are in flight at the kill
    await sink.start()
    config = write_sink_config(tmp_path / "config")
    prefix, redis = redis_prefix.prefix, redis_prefix.redis
    ids = [f"burst-{i}" for i in range(TOTAL)]
    async with redis.pipeline(transaction=False) as pipe:
        for rid in ids:
            pipe.lpush(
                f"{prefix}:requests", json.dumps({"id": rid, "title": "burst", "message": rid})
            )
        await pipe.execute()

    first = DaemonProcess(
        config, prefix, redis_prefix.url, pg_url, sink.url, tmp_path / "first.log"
    ).start()
    daemons.append(first)

    async def some_delivered() -> bool:
        return len(sink.received) >= 300

    await wait_until(some_delivered, 60, "the first daemon to deliver 300 requests")
    first.kill()
    at_kill = len(sink.received)
    assert at_kill < TOTAL, "the burst finished before the kill; make it bigger"

    second = DaemonProcess(
        config, prefix, redis_prefix.url, pg_url, sink.url, tmp_path / "second.log"
    ).start()
    daemons.append(second)
    conn = await asyncpg.connect(pg_url)
    try:

        async def all_recorded() -> bool:
            n = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
            return n == TOTAL

        await wait_until(all_recorded, 90, f"{TOTAL} delivered deliveries in Postgres")
        rows = await conn.fetch("SELECT request_id, status, attempts FROM deliveries")
        assert sorted(r["request_id"] for r in rows) == sorted(
            ids
        )  # one row per request, none twice
        assert {r["status"] for r in rows} == {"delivered"}
    finally:
        await conn.close()
    assert await redis.llen(f"{prefix}:requests") == 0
    # Every delivery reached the receiver. Those sent but not yet recorded when the process died
    # are sent again by the replay, with the same delivery id so the receiver can drop them; there
    # are at most as many as the daemon holds in flight (512 requests of one delivery each).
    delivery_ids = [r.headers["X-Notifierd-Delivery"] for r in sink.received]
    assert len(set(delivery_ids)) == TOTAL
    duplicates = len(delivery_ids) - TOTAL
    print(
        f"kill -9 after {at_kill} deliveries; {duplicates} delivery(ies) reached the receiver twice"
    )
    assert duplicates <= 512, duplicates
    bodies = {r.json()["request_id"] for r in sink.received}
    assert bodies == set(ids)
    assert await second.terminate() == 0
    await sink.stop()


async def test_kill_9_puts_each_request_back_on_its_own_producer_queue(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    sink = WebhookSink()
    sink.delay = 0.005
    await sink.start()
    config = write_sink_config(tmp_path / "config")
    routes = config / "routes.yaml"
    routes.write_text(routes.read_text() + "producers:\n  ci: {queue: true}\n")
    prefix, redis = redis_prefix.prefix, redis_prefix.redis
    default = Keys(prefix, f"{prefix}:requests")
    ci = default.of_producer("ci")
    each = TOTAL // 2
    ids = {
        default.queue: [f"anon-{i}" for i in range(each)],
        ci.queue: [f"ci-{i}" for i in range(each)],
    }
    async with redis.pipeline(transaction=False) as pipe:
        for queue, queued in ids.items():
            for rid in queued:
                pipe.lpush(queue, json.dumps({"id": rid, "title": "burst", "message": rid}))
        await pipe.execute()

    first = DaemonProcess(
        config, prefix, redis_prefix.url, pg_url, sink.url, tmp_path / "first.log"
    ).start()
    daemons.append(first)

    async def some_of_each_delivered() -> bool:
        got = [r.json()["request_id"] for r in sink.received]
        return sum(g.startswith("ci-") for g in got) >= 100 and len(got) >= 300

    await wait_until(some_of_each_delivered, 60, "the first daemon to deliver from both queues")
    first.kill()
    assert len(sink.received) < TOTAL, "the burst finished before the kill; make it bigger"

    # What the dead daemon held goes back, as another replica would put it, onto its own queue.
    await asyncio.sleep(2.5)  # its heartbeat (--heartbeat-ttl 2) lapses
    recovered = await recover(redis, default) + await recover(redis, ci)
    assert recovered > 0
    for queue, own in ids.items():
        back = [json.loads(raw)["id"] for raw in await redis.lrange(queue, 0, -1)]
        assert set(back) <= set(own), f"{queue} holds another queue's requests"

    second = DaemonProcess(
        config, prefix, redis_prefix.url, pg_url, sink.url, tmp_path / "second.log"
    ).start()
    daemons.append(second)
    conn = await asyncpg.connect(pg_url)
    try:

        async def all_recorded() -> bool:
            n = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
            return n == TOTAL

        await wait_until(all_recorded, 90, f"{TOTAL} delivered deliveries in Postgres")
        rows = await conn.fetch("SELECT id, producer FROM requests")
        assert {r["id"]: r["producer"] for r in rows} == {
            **{rid: None for rid in ids[default.queue]},
            **{rid: "ci" for rid in ids[ci.queue]},
        }
    finally:
        await conn.close()
    assert await redis.llen(default.queue) == 0 and await redis.llen(ci.queue) == 0
    assert await second.terminate() == 0
    await sink.stop()
