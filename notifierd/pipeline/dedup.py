"""Deduplication across replicas: the first request to claim a dedup key within the window wins."""

from __future__ import annotations

from redis.asyncio import Redis

from notifierd.redisio.keys import Keys


class Deduplicator:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def claim(self, dedup_key: str, request_id: str, window: float) -> str | None:
        """None when ``request_id`` owns the key, else the id of the request that holds it.

        The same request seen again (recovered after a crash) still owns its key, so a retry
        is never mistaken for a duplicate of itself. A window of 0 disables deduplication.
        """
        if window <= 0:
            return None
        # SET NX GET (Redis 7): claim and learn the holder in one atomic command; the holder
        # cannot expire between a failed SET and a GET.
        holder = await self.redis.set(
            self.keys.dedup(dedup_key),
            request_id,
            nx=True,
            get=True,
            px=max(1, round(window * 1000)),
        )
        if holder is None:
            return None
        holder_id = holder.decode() if isinstance(holder, bytes) else str(holder)
        return None if holder_id == request_id else holder_id
