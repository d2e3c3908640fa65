"""A held connection against the real Redis: replies in order, errors as values, cut-off calls."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


async def test_the_clients_socket_timeout_bounds_the_whole_call_beyond_what_it_blocks_for(
    redis_prefix: RedisPrefix,
) -> None:
    """One deadline per call (redis-py arms one per reply and sends through a task): a server
    that never answers fails the call with the client's TimeoutError and the connection is
    closed; a blocking command may wait as long as it said on top of it."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the command, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mute = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.3)
    held = HeldConnection(mute)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(RedisTimeoutError):  # its handshake or the command: either is bounded
            await held.call(("GET", "k"))
        assert 0.25 < asyncio.get_running_loop().time() - started < 2.0
        assert held._connection is not None and not held._connection.is_connected
    finally:
        await held.close()
        await mute.aclose()
        server.close()
        await server.wait_closed()

    queue = f"{redis_prefix.prefix}:q"
    quick = Redis.from_url(redis_prefix.url, socket_timeout=0.2)
    held = HeldConnection(quick)
    try:
        started = asyncio.get_running_loop().time()
        [woke] = await held.call(("BLMOVE", queue, queue, "RIGHT", "RIGHT", 0.6), blocks_for=0.6)
        assert woke is None  # the wait ran out, not the deadline (0.2 s + 0.6 s)
        assert asyncio.get_running_loop().time() - started >= 0.55
        started = asyncio.get_running_loop().time()
        with pytest.raises(RedisTimeoutError, match=r"within 0\.3s"):  # blocks longer than it said
            await held.call(("BLMOVE", queue, queue, "RIGHT", "RIGHT", 1.5), blocks_for=0.1)
        assert asyncio.get_running_loop().time() - started < 1.2
        assert await held.call(("LLEN", queue)) == [0]  # connected again, in step
    finally:
        await held.close()
        await quick.aclose()
