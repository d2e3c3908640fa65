"""Per-channel and per-type rate limits, shared by every replica through one Lua script."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from notifierd.config.model import Channel, RateLimit
from notifierd.intake.keys import Keys, Scripts

_ALGORITHMS = {"sliding_window": "s", "token_bucket": "t"}


class RateLimitTimeout(Exception):
    """``acquire`` would wait longer than ``max_wait``; nothing was consumed."""

    def __init__(self, limit: RateLimit, retry_after: float, waited: float) -> None:
        super().__init__(
            f"rate limit {limit.key} ({limit.limit} per {limit.window:g}s) needs "
            f"{retry_after:.3f}s more after {waited:.3f}s of waiting"
        )
        self.limit = limit
        self.retry_after = retry_after
        self.waited = waited


def limits_for(rate_limits: Iterable[RateLimit], channel: Channel) -> tuple[RateLimit, ...]:
    """The limits a delivery through ``channel`` must pass: its own and its type's."""
    return tuple(
        limit
        for limit in rate_limits
        if limit.channel == channel.name or (limit.channel is None and limit.type == channel.type)
    )


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """Where one limit stands now: ``remaining`` of ``capacity`` (a bucket's burst, else limit)."""

    key: str
    algorithm: str
    limit: int
    window: float  # seconds
    capacity: int
    used: int
    remaining: int
    retry_after: float  # seconds until one more would be admitted; 0 when one would be now
    resets_in: float  # seconds until the limit is back to full capacity


class RateLimiter:
    """Admission against several limits at once: all admit and consume together, or none does.

    Why one script over every key instead of one limit after another: acquiring in order
    would take a slot of the channel limit and then wait (or spin) on the type limit, wasting
    the first slot or holding it while others starve. Checking all and then consuming all in
    one atomic call never over-consumes and never deadlocks; all keys of one delivery are on
    one Redis server (we do not run Redis Cluster).
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.redis = redis
        self.keys = keys
        scripts = Scripts.register(redis)
        self._script = scripts.rate_limit
        self._peek = scripts.rate_limit_peek
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    async def try_acquire(self, limit: RateLimit) -> float:
        """0 when admitted (and counted), else the seconds until it could be."""
        return max(await self.try_acquire_all([limit]))

    async def try_acquire_all(self, limits: Sequence[RateLimit]) -> tuple[float, ...]:
        """One wait per limit in seconds: all 0 means admitted by every limit and counted."""
        if not limits:
            return ()
        keys, args = self._script_args(limits)
        waits = await self._script(keys=keys, args=[uuid.uuid4().hex, *args])
        return tuple(int(ms) / 1000 for ms in waits)

    async def status(self, limits: Sequence[RateLimit]) -> list[LimitStatus]:
        """Each limit's use and waits right now, in order; reads only, consumes nothing."""
        if not limits:
            return []
        keys, args = self._script_args(limits)
        values = [int(v) for v in await self._peek(keys=keys, args=args)]
        statuses = []
        for i, limit in enumerate(limits):
            value, next_slot_ms, reset_ms = values[3 * i : 3 * i + 3]
            capacity = _capacity(limit)
            # The script answers the used count for a window, the tokens left for a bucket.
            if limit.algorithm == "sliding_window":
                used, remaining = value, max(0, limit.limit - value)
            else:
                used, remaining = capacity - value, value
            statuses.append(
                LimitStatus(
                    key=limit.key,
                    algorithm=limit.algorithm,
                    limit=limit.limit,
                    window=limit.window,
                    capacity=capacity,
                    used=used,
                    remaining=remaining,
                    retry_after=next_slot_ms / 1000,
                    resets_in=reset_ms / 1000,
                )
            )
        return statuses

    def _script_args(self, limits: Sequence[RateLimit]) -> tuple[list[str], list[str | int]]:
        """Keys and the four ARGV values per limit that RATE_LIMIT and RATE_LIMIT_PEEK take."""
        keys: list[str] = []
        args: list[str | int] = []
        for limit in limits:
            code = _ALGORITHMS.get(limit.algorithm)
            if code is None:
                raise ValueError(f"unknown rate limit algorithm {limit.algorithm!r}")
            if limit.limit < 1 or limit.window <= 0:
                raise ValueError(f"rate limit {limit.key} needs limit >= 1 and window > 0")
            keys.append(self.keys.ratelimit(limit.key, limit.algorithm))
            args += [code, limit.limit, repr(limit.window * 1000), _capacity(limit)]
        return keys, args

    async def acquire(
        self,
        limits: Sequence[RateLimit],
        *,
        max_wait: float | None = None,
        on_wait: Callable[[RateLimit, float], object] | None = None,
    ) -> float:
        """Wait until every limit admits (backpressure, never a drop); returns seconds waited.

        ``on_wait(limit, seconds)`` is called for each limit that holds the delivery back.
        Raises RateLimitTimeout, consuming nothing, when the wait would exceed ``max_wait``.
        """
        limits = _distinct(limits)
        started = self._clock()
        while True:
            waits = await self.try_acquire_all(limits)
            waited = self._clock() - started
            if not any(waits):
                return waited
            delay = max(waits)
            if on_wait is not None:
                for limit, wait in zip(limits, waits, strict=True):
                    if wait:
                        on_wait(limit, wait)
            if max_wait is not None and waited + delay > max_wait:
                binding = limits[waits.index(delay)]
                raise RateLimitTimeout(binding, delay, waited)
            # Waiters refused together wake together; a little jitter spreads them over the
            # freed slot instead of all hitting Redis in the same millisecond.
            await self._sleep(delay + min(0.05, delay * 0.1) * self._jitter())


def _capacity(limit: RateLimit) -> int:
    # A bucket holds up to ``burst`` tokens; a window admits ``limit`` (burst has no effect).
    if limit.algorithm == "token_bucket":
        return limit.burst or limit.limit
    return limit.limit


def _distinct(limits: Sequence[RateLimit]) -> list[RateLimit]:
    # The same limit listed twice would take two slots from one key for one delivery.
    seen: dict[tuple[str, str], RateLimit] = {}
    for limit in limits:
        seen.setdefault((limit.key, limit.algorithm), limit)
    return list(seen.values())
