"""A pool connection kept for one frequent caller, so its calls skip the pool's checkout."""

from __future__ import annotations

from typing import Any

import asyncpg


class Lease:
    """One connection of ``pool`` kept between calls: asyncpg's ``pool.fetch`` checks a
    connection out and back in around every query (the release in a task of its own, shielded
    from cancellation), ~35 µs of CPU and of latency per call (bench/README.md), and the
    intake's lookup before each send and the recorder's write after it are a call per request
    at a steady rate.

    A call made while another is under way (requests of one alert looked up at once) takes a
    pool connection as before rather than wait. A call that fails, or is cancelled, gives the
    connection back to the pool (which closes a broken one); the next call takes another.
    A pool of one connection is never leased from: kept, it would leave everyone else waiting.
    ``close()`` before the pool's: a pool waits for every connection to come back.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._connection: asyncpg.pool.PoolConnectionProxy | None = None
        self._busy = pool.get_max_size() < 2  # "busy" for good: every call the pool's

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._call("fetch", query, args)
        return rows

    async def execute(self, query: str, *args: Any) -> None:
        await self._call("execute", query, args)

    async def _call(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        if self._busy:
            return await getattr(self._pool, method)(query, *args)
        self._busy = True
        try:
            connection = self._kept() or await self._take()
            try:
                return await getattr(connection, method)(query, *args)
            except BaseException:
                await self._give_back()
                raise
        finally:
            self._busy = False

    def _kept(self) -> asyncpg.pool.PoolConnectionProxy | None:
        """The connection kept, unless asyncpg took it back (lost: it tells us a moment later)."""
        connection = self._connection
        if connection is not None and connection._con is None:  # detached: the pool's again
            self._connection = connection = None
        return connection

    async def _take(self) -> asyncpg.pool.PoolConnectionProxy:
        connection = self._connection = await self._pool.acquire()
        # Lost (Postgres restarted), asyncpg hands it back to the pool itself: forget it then.
        connection.add_termination_listener(self._lost)
        return connection

    def _lost(self, connection: object) -> None:
        # Called soon after the loss, not at once: by then a newer one may be kept.
        if self._connection is connection:
            self._connection = None

    async def _give_back(self) -> None:
        connection, self._connection = self._kept(), None
        if connection is not None:
            connection.remove_termination_listener(self._lost)
            await self._pool.release(connection)

    async def close(self) -> None:
        await self._give_back()
