"""Worker slot ids claimed in a real Redis: the supervisor's replacement workers get theirs back
at once, another daemon's workers are refused it, the heartbeat keeps it, a clean stop frees it."""

from __future__ import annotations

import asyncio
import json

from notifierd.intake.claim import claim_worker_id
from notifierd.intake.consumer import Consumer
from notifierd.options import WorkerSlot
from notifierd.redisio.keys import Keys
from tests.integration.redis_fixtures import RedisPrefix, redis_prefix

__all__ = ["redis_prefix"]


async def test_the_slot_owner_claims_its_id_again_and_another_owner_is_refused(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    ours, theirs = WorkerSlot(1, "supervisor-a"), WorkerSlot(1, "supervisor-b")
    first = await claim_worker_id(redis_prefix.redis, keys, ours, 15.0, host="box")
    assert first is not None and first.worker_id == "box-w1"
    # The worker started in place of a killed one: its claim has not expired, and it is its own.
    again = await claim_worker_id(redis_prefix.redis, keys, ours, 15.0, host="box")
    assert again == first
    assert await claim_worker_id(redis_prefix.redis, keys, theirs, 15.0, host="box") is None
    # Another slot is another id.
    other = await claim_worker_id(redis_prefix.redis, keys, WorkerSlot(0, "supervisor-b"), 15.0)
    assert other is not None and other.worker_id.endswith("-w0")


async def test_the_heartbeat_keeps_the_claim_and_a_clean_stop_frees_it(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    redis = redis_prefix.redis
    claim = await claim_worker_id(redis, keys, WorkerSlot(0, "a"), 0.6, host="box")
    assert claim is not None
    consumer = Consumer(redis, keys, heartbeat_ttl=0.6, claim=claim)
    assert consumer.id == "box-w0"
    await consumer.start()
    await asyncio.sleep(1.5)  # well past the TTL: only the heartbeat keeps the claim alive
    assert await redis.get(keys.worker_claim("box-w0")) == b"a"
    await consumer.stop()
    assert not await redis.exists(keys.worker_claim("box-w0"))
    assert await claim_worker_id(redis, keys, WorkerSlot(0, "b"), 15.0, host="box") is not None


async def test_a_replacement_under_the_slot_id_takes_the_dead_worker_s_requests_back_at_start(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    redis = redis_prefix.redis
    for i in range(3):
        await redis.lpush(keys.queue, json.dumps({"id": f"r{i}", "title": "t", "message": "m"}))
    slot = WorkerSlot(0, "a")
    claim = await claim_worker_id(redis, keys, slot, 15.0, host="box")
    dead = Consumer(redis, keys, heartbeat_ttl=15.0, claim=claim)
    await dead.start()
    assert len(await dead.fetch(3, timeout=1)) == 3
    task = dead._heartbeat_task  # killed: no stop, its heartbeat key lives on for 15 s
    assert task is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    replacement = Consumer(
        redis,
        keys,
        heartbeat_ttl=15.0,
        claim=await claim_worker_id(redis, keys, slot, 15.0, host="box"),
    )
    await replacement.start()
    assert await replacement.return_own() == 3
    assert len(await replacement.fetch(3, timeout=1)) == 3
    await replacement.ack(await replacement.pending())
    await replacement.stop()
