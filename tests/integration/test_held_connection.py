"""A held connection against the real Redis: replies in order, errors as values, cut-off calls."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from notifierd.redisio.connect import connect_redis
from notifierd.redisio.held import HeldConnection
from tests.integration.redis_fixtures import RedisPrefix, redis_prefix

__all__ = ["redis_prefix"]


async def test_each_command_gets_its_reply_and_a_refusal_is_a_value(
    redis_prefix: RedisPrefix,
) -> None:
    key = f"{redis_prefix.prefix}:k"
    held = HeldConnection(redis_prefix.redis)
    try:
        ok, refused, value = await held.call(("SET", key, "v"), ("INCR", key), ("GET", key))
        assert ok in (True, b"OK")
        assert isinstance(refused, ResponseError) and "not an integer" in str(refused)
        assert value == b"v"  # read after the refusal: the connection is still in step
        assert await held.call(("STRLEN", key)) == [1]
    finally:
        await held.close()


async def test_a_call_cancelled_while_waiting_leaves_no_late_reply_for_the_next(
    redis_prefix: RedisPrefix,
) -> None:
    """Cancelled in a blocking wait (the intake at shutdown): had the connection been kept, the
    wait's reply, sent when something arrives, would be read as the next call's."""
    queue, key = f"{redis_prefix.prefix}:q", f"{redis_prefix.prefix}:k"
    await redis_prefix.redis.set(key, "v")
    held = HeldConnection(redis_prefix.redis)
    try:
        waiting = asyncio.create_task(held.call(("BLMOVE", queue, queue, "RIGHT", "RIGHT", 5)))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await redis_prefix.redis.lpush(queue, "arrived")
        assert await held.call(("GET", key)) == [b"v"]
        assert await redis_prefix.redis.lrange(queue, 0, -1) == [b"arrived"]
    finally:
        await held.close()


async def test_a_lost_connection_fails_the_call_and_the_next_one_connects_again(
    redis_prefix: RedisPrefix,
) -> None:
    key = f"{redis_prefix.prefix}:k"
    held = HeldConnection(redis_prefix.redis)
    try:
        name = f"held-{redis_prefix.prefix[-8:]}"
        await held.call(("SET", key, "v"), ("CLIENT", "SETNAME", name))
        assert await _kill_named(redis_prefix, name) == 1  # as a Redis restart would
        # Noticed before the next call (the server's close already read): no failed call.
        await asyncio.sleep(0.2)
        assert await held.call(("GET", key), ("CLIENT", "SETNAME", name)) == [b"v", b"OK"]
        # Cut while a call waits: that call fails, the next one connects again.
        waiting = asyncio.create_task(held.call(("BLPOP", f"{key}:empty", 5)))
        await asyncio.sleep(0.2)
        assert await _kill_named(redis_prefix, name) == 1
        with pytest.raises((RedisConnectionError, ConnectionError)):
            await waiting
        assert await held.call(("GET", key)) == [b"v"]
    finally:
        await held.close()


async def _kill_named(env: RedisPrefix, name: str) -> int:
    clients = await env.redis.client_list()
    ids = [c["id"] for c in clients if c.get("name") == name]
    for client_id in ids:
        await env.redis.execute_command("CLIENT", "KILL", "ID", client_id)
    return len(ids)


async def test_holding_it_takes_no_connection_from_the_clients_pool(
    redis_prefix: RedisPrefix,
) -> None:
    """A replica's consumers hold two, however many queues: the pool's connections stay for the
    commands everyone else sends (here a pool of one, and it is still free)."""
    client = await connect_redis(redis_prefix.url, max_connections=1, pool_timeout=1.0)
    held = HeldConnection(client)
    try:
        await held.call(("PING",))
        assert await client.ping()
    finally:
        await held.close()
        await client.aclose()
