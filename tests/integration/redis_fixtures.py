"""A fresh Redis key prefix per test, on the real server, with its keys deleted afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from notifierd.errors import ServiceUnavailable
from notifierd.redisio.connect import connect_redis

REDIS_URL = os.environ.get(
    "NOTIFIERD_TEST_REDIS", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
)


@dataclass
class RedisPrefix:
    """``redis`` is connected; every key a test writes starts with ``prefix``."""

    redis: Redis
    prefix: str
    url: str = REDIS_URL
    _extra: list[Redis] = field(default_factory=list)

    async def client(self) -> Redis:
        """Another connection pool, as a second replica would have; closed after the test."""
        extra = await connect_redis(self.url)
        self._extra.append(extra)
        return extra


async def delete_prefix(redis: Redis, prefix: str) -> int:
    deleted = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{prefix}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += await redis.delete(*batch)
            batch.clear()
    if batch:
        deleted += await redis.delete(*batch)
    return deleted


@pytest.fixture
async def redis_prefix() -> AsyncIterator[RedisPrefix]:
    try:
        redis = await connect_redis(REDIS_URL)
    except ServiceUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    env = RedisPrefix(redis=redis, prefix=f"test:{uuid.uuid4().hex}")
    try:
        yield env
    finally:
        await delete_prefix(redis, env.prefix)
        for extra in env._extra:
            await extra.aclose()
        await redis.aclose()
