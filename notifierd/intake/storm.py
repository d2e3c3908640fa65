"""Storm control for webhook intake: past a route's ``max_new_alerts_per_minute``, further new
alerts are folded into one summary alert for the route instead of paging one by one.

Counted per route and wall-clock minute in Redis (``Keys.storm``), so every replica sees one
count. A folded request keeps its id, labels and words, but its dedup key is the route's storm
key: the first folded one opens the summary alert (one page), the rest join it (occurrences in
its timeline). The summary alert stays open until someone resolves it; the folded alerts' own
resolves find no alert and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from notifierd.redisio.keys import Keys

# Longer than the minute counted, so a count outlives the clock skew between replicas.
_COUNT_TTL = 120


@dataclass(frozen=True, slots=True)
class StormLimit:
    """A route's limit: ``per_minute`` new alerts, then fold."""

    route: str
    per_minute: int


def storm_key(route: str) -> str:
    """The dedup key of a route's summary alert."""
    return f"storm:{route}"


def fold(request: Mapping[str, Any], limit: StormLimit) -> dict[str, Any]:
    """``request`` folded into ``limit.route``'s summary alert."""
    folded = dict(request)
    was = request.get("title") or "an alert"
    folded["dedup_key"] = storm_key(limit.route)
    folded["title"] = (
        f"Alert storm on route {limit.route}: more than {limit.per_minute} new alerts a minute"
    )
    folded["message"] = f"First folded: {was}\n{request.get('message') or ''}".strip()
    folded["labels"] = {**(request.get("labels") or {}), "storm_route": limit.route}
    return folded


class StormControl:
    """Decides, for the new trigger requests of one payload, which are folded."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def apply(
        self,
        requests: Sequence[dict[str, Any]],
        limit_of: Callable[[dict[str, Any]], StormLimit | None],
        is_open: Callable[[str], Awaitable[bool]],
        minute: int,
    ) -> list[dict[str, Any]]:
        """``requests`` with those past their route's limit folded. ``limit_of``: the limit of
        the first limited route a request goes to, if any; ``is_open``: whether an alert with
        this dedup key is open (a trigger for it joins, and is no new alert)."""
        out: list[dict[str, Any]] = []
        counted: dict[str, bool] = {}  # dedup key -> folded (a group's members count once)
        for request in requests:
            limit = limit_of(request) if request.get("action") == "trigger" else None
            key = str(request.get("dedup_key") or request["id"])
            if limit is None:
                out.append(request)
                continue
            if key not in counted:
                counted[key] = not await is_open(key) and await self._over(limit, minute)
            out.append(fold(request, limit) if counted[key] else request)
        return out

    async def _over(self, limit: StormLimit, minute: int) -> bool:
        name = self.keys.storm(limit.route, minute)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, _COUNT_TTL)
            count, _ = await pipe.execute()
        return int(count) > limit.per_minute
