"""Deduplication on a real Redis: first claim wins within the window, then expires."""

from __future__ import annotations

import asyncio

from notifierd.pipeline.dedup import Deduplicator
from notifierd.redisio.keys import Keys
from tests.integration.redis_fixtures import RedisPrefix, redis_prefix

__all__ = ["redis_prefix"]


async def test_the_first_request_owns_the_key_within_the_window(redis_prefix: RedisPrefix) -> None:
    dedup = Deduplicator(redis_prefix.redis, Keys(redis_prefix.prefix))
    assert await dedup.claim("db-down", "req-1", window=60) is None
    assert await dedup.claim("db-down", "req-2", window=60) == "req-1"
    assert await dedup.claim("db-down", "req-3", window=60) == "req-1"
    assert await dedup.claim("disk-full", "req-2", window=60) is None  # another key


async def test_a_recovered_request_still_owns_its_key(redis_prefix: RedisPrefix) -> None:
    dedup = Deduplicator(redis_prefix.redis, Keys(redis_prefix.prefix))
    assert await dedup.claim("deploy-42", "req-1", window=60) is None
    # The same request again, after a crash before its ack: not a duplicate of itself.
    assert await dedup.claim("deploy-42", "req-1", window=60) is None


async def test_the_key_is_free_again_after_the_window(redis_prefix: RedisPrefix) -> None:
    dedup = Deduplicator(redis_prefix.redis, Keys(redis_prefix.prefix))
    assert await dedup.claim("flappy", "req-1", window=0.3) is None
    assert await dedup.claim("flappy", "req-2", window=0.3) == "req-1"
    await asyncio.sleep(0.4)
    assert await dedup.claim("flappy", "req-2", window=0.3) is None
    assert await dedup.claim("flappy", "req-1", window=0.3) == "req-2"


async def test_replicas_racing_for_one_key_elect_one_owner(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    replicas = [Deduplicator(await redis_prefix.client(), keys) for _ in range(4)]
    results = await asyncio.gather(
        *(replicas[i % 4].claim("race", f"req-{i}", window=60) for i in range(40))
    )
    owners = [f"req-{i}" for i, holder in enumerate(results) if holder is None]
    assert len(owners) == 1
    assert {holder for holder in results if holder is not None} == set(owners)


async def test_a_zero_window_disables_dedup(redis_prefix: RedisPrefix) -> None:
    dedup = Deduplicator(redis_prefix.redis, Keys(redis_prefix.prefix))
    assert await dedup.claim("k", "req-1", window=0) is None
    assert await dedup.claim("k", "req-2", window=0) is None
    assert await redis_prefix.redis.exists(Keys(redis_prefix.prefix).dedup("k")) == 0
