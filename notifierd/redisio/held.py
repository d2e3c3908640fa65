"""A connection held for one caller's frequent commands, sent without the client's per-call work."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


class HeldConnection:
    """A connection kept for the commands one caller sends in turn (the intake's takes and
    waits, the recorder's acks): redis-py's client spends ~50–70 µs of CPU per call on top of
    the exchange itself — a pool checkout and release, its retry wrapper, a pipeline's
    bookkeeping (bench/README.md) — and at a steady rate that is a call per request. Made with
    the client's settings (address, password, database, TLS) but not taken from its pool, so
    holding it leaves the pool's connections to everyone else.

    ``call(*commands)`` writes the commands at once and returns each one's reply, an error reply
    as its exception (the replies after it are still read: the connection stays in step). A call
    cut short (the connection lost, cancelled while waiting) closes the connection, whose late
    replies would answer the next call; the next call connects again. Failures are the client's
    own (redis.exceptions.ConnectionError, ...): callers retry them as they retry the client's.
    One call at a time.

    The client's socket timeout bounds the whole call (plus ``blocks_for``, how long a blocking
    command in it may wait): one deadline, where redis-py would arm one for each reply it reads
    and send the commands through a task of their own (``asyncio.wait_for``), ~5 % of a
    worker's CPU at a steady rate (bench/README.md). Past it, redis.exceptions.TimeoutError.
    """

    def __init__(self, redis: Redis) -> None:
        self._pool = redis.connection_pool
        self._timeout: float | None = None  # the client's socket timeout, read on connecting
        self._connection: AbstractConnection | None = None
        self._lock = asyncio.Lock()

    async def call(self, *commands: tuple[Any, ...], blocks_for: float = 0.0) -> list[Any]:
        async with self._lock:
            connection = self._connection
            if connection is None:
                connection = self._connection = self._pool.make_connection()
                self._timeout = connection.socket_timeout
            deadline = None if self._timeout is None else self._timeout + blocks_for
            limit = asyncio.timeout(deadline)
            try:
                # Closed by the server while idle (a restart, its idle timeout): connect again
                # now rather than fail the call. Checks what was received, no system call.
                if connection.is_connected and await connection.can_read():
                    await connection.disconnect()
                if not connection.is_connected:
                    # Connecting (and its AUTH, SELECT, HELLO) keeps redis-py's own timeouts.
                    connection.socket_timeout = self._timeout
                    await connection.connect_check_health(check_health=False)
                # Read by redis-py on each send and read; None: no deadline of its own (ours).
                connection.socket_timeout = None
                async with limit:
                    return await self._exchange(connection, commands)
            except BaseException as exc:
                await connection.disconnect(nowait=True)
                if isinstance(exc, TimeoutError) and limit.expired():
                    raise RedisTimeoutError(f"no reply from Redis within {deadline:g}s") from None
                raise

    @staticmethod
    async def _exchange(
        connection: AbstractConnection, commands: tuple[tuple[Any, ...], ...]
    ) -> list[Any]:
        # No health-check PING first: a connection that died fails the call, which the caller
        # retries.
        await connection.send_packed_command(connection.pack_commands(commands), check_health=False)
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except ResponseError as refused:
                replies.append(refused)
        return replies

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect()
