"""Per-channel and per-type rate limits, shared by every replica through one Lua script."""

from __future__ import annotations

import asyncio
import collections
import heapq
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from notifierd import metrics
from notifierd.config.model import Channel, RateLimit
from notifierd.reconnect import Backoff, until_done
from notifierd.redisio.connect import redis_transient
from notifierd.redisio.keys import Keys, Scripts

log = logging.getLogger(__name__)

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


# Waiters one admission call serves at most (the script's work stays short).
MAX_ADMIT = 500
# Seconds a gate waits at least between two calls while deliveries wait.
MIN_PAUSE = 0.01


def count_wait(limit: RateLimit, seconds: float) -> None:
    metrics.RATE_LIMIT_WAITS.labels(limit.key).inc(seconds)


class RateLimiter:
    """Admission against several limits at once: all admit and consume together, or none does.

    Why one script over every key instead of one limit after another: acquiring in order
    would take a slot of the channel limit and then wait (or spin) on the type limit, wasting
    the first slot or holding it while others starve. Checking all and then consuming all in
    one atomic call never over-consumes and never deadlocks; all keys of one delivery are on
    one Redis server (we do not run Redis Cluster).

    Waiting costs no Redis connection: the deliveries waiting on one set of limits queue in a
    ``_Gate`` in this process, and one task per gate asks Redis for as many admissions as it
    has waiters, once each time quota may have freed up (after the wait the script returned).
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        on_wait: Callable[[RateLimit, float], object] = count_wait,
    ) -> None:
        """``on_wait(limit, seconds)`` is told, each time a limit holds deliveries back, the
        seconds it holds them all together (waiter-seconds: a metric)."""
        self.redis = redis
        self.keys = keys
        scripts = Scripts.register(redis)
        self._script = scripts.rate_limit
        self._peek = scripts.rate_limit_peek
        self._sleep = sleep
        self._backoff = Backoff(sleep=sleep)
        self._clock = clock
        self._jitter = jitter
        self._on_wait = on_wait
        self._gates: dict[tuple[RateLimit, ...], _Gate] = {}

    @property
    def waiting(self) -> int:
        """Deliveries waiting for quota in this process."""
        return sum(gate.live for gate in self._gates.values())

    async def try_acquire(self, limit: RateLimit) -> float:
        """0 when admitted (and counted), else the seconds until it could be."""
        return max(await self.try_acquire_all([limit]))

    async def try_acquire_all(self, limits: Sequence[RateLimit]) -> tuple[float, ...]:
        """One wait per limit in seconds: all 0 means admitted by every limit and counted."""
        if not limits:
            return ()
        admitted, waits = await self.admit(limits, 1)
        return tuple(0.0 for _ in limits) if admitted else waits

    async def admit(
        self, limits: Sequence[RateLimit], wanted: int
    ) -> tuple[int, tuple[float, ...]]:
        """Admit (and count) up to ``wanted`` deliveries at once: (how many, and per limit the
        seconds until one more could be)."""
        keys, args = self._script_args(limits)
        out = await self._script(keys=keys, args=[uuid.uuid4().hex, wanted, *args])
        return int(out[0]), tuple(int(ms) / 1000 for ms in out[1:])

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

    async def acquire(self, limits: Sequence[RateLimit], *, max_wait: float | None = None) -> float:
        """Wait until every limit admits (backpressure, never a drop); returns seconds waited.

        Waiters on the same limits are admitted in the order they came. Raises
        RateLimitTimeout, consuming nothing, as soon as the wait would exceed ``max_wait``.
        Redis being away is waited out, never raised.
        """
        distinct = tuple(_distinct(limits))
        if not distinct:
            return 0.0
        gate = self._gates.get(distinct)
        if gate is None:
            gate = self._gates[distinct] = _Gate(self, distinct)
        return await gate.wait(max_wait)


@dataclass(eq=False, slots=True)
class _Waiter:
    future: asyncio.Future[float]
    since: float


class _Gate:
    """The deliveries waiting on one set of limits, in arrival order, served by one task.

    Each cycle costs the same whatever the number of waiters: one admission call, the wait
    counted once for all of them, and only the waiters whose ``max_wait`` runs out looked at
    (a heap by deadline)."""

    def __init__(self, limiter: RateLimiter, limits: tuple[RateLimit, ...]) -> None:
        self.limiter = limiter
        self.limits = limits
        self.waiters: collections.deque[_Waiter] = collections.deque()
        self.live = 0  # waiters not yet admitted, timed out or cancelled
        self._deadlines: list[tuple[float, int, _Waiter]] = []
        self._task: asyncio.Task[None] | None = None
        # While the task sleeps: when it asks Redis next, and the limit it waits for.
        self._asleep: tuple[float, RateLimit] | None = None

    async def wait(self, max_wait: float | None) -> float:
        loop = asyncio.get_running_loop()
        since = self.limiter._clock()
        if max_wait is not None and self._asleep is not None:
            wake, binding = self._asleep
            if since + max_wait < wake:
                # Nobody here is admitted before the task wakes: this waiter would wait past
                # its deadline, so it gives up now rather than at the wake.
                raise RateLimitTimeout(binding, wake - since, 0.0)
        waiter = _Waiter(loop.create_future(), since)
        self.waiters.append(waiter)
        self.live += 1
        waiter.future.add_done_callback(self._gone)
        if max_wait is not None:
            heapq.heappush(self._deadlines, (since + max_wait, id(waiter), waiter))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._serve(), name=f"ratelimit:{self.limits[0].key}")
        # A cancelled waiter (its request was returned at shutdown) is skipped by _serve.
        return await waiter.future

    def _gone(self, future: asyncio.Future[float]) -> None:
        # Admissions and timeouts are counted where they are made (this runs only later).
        if future.cancelled():
            self.live -= 1

    def _settle(self, waiter: _Waiter, result: float | BaseException) -> None:
        if waiter.future.done():
            return
        self.live -= 1
        if isinstance(result, BaseException):
            waiter.future.set_exception(result)
        else:
            waiter.future.set_result(result)

    async def _serve(self) -> None:
        limiter = self.limiter
        try:
            while True:
                while self.waiters and self.waiters[0].future.done():
                    self.waiters.popleft()
                if not self.live:
                    return
                try:
                    admitted, waits = await until_done(
                        lambda: limiter.admit(self.limits, min(self.live, MAX_ADMIT)),
                        what=f"asking Redis for rate limit {self.limits[0].key}",
                        retry_if=redis_transient,
                        backoff=limiter._backoff,
                        logger=log,
                    )
                except Exception as exc:  # a bad limit: no wait fixes it
                    self._fail_all(exc)
                    return
                now = limiter._clock()
                while admitted > 0 and self.waiters:
                    waiter = self.waiters.popleft()
                    if not waiter.future.done():
                        self._settle(waiter, now - waiter.since)
                        admitted -= 1
                if not self.live or not any(waits):
                    continue  # nobody left, or quota for more: serve whoever came meanwhile
                # At least MIN_PAUSE: a bucket refilling fast then admits a few per call
                # instead of one.
                pause = max(MIN_PAUSE, *waits)
                binding = self._held_back(waits, pause, now)
                # Replicas refused together wake together; a little jitter spreads them over
                # the freed slot instead of all hitting Redis in the same millisecond.
                delay = pause + min(0.05, pause * 0.1) * limiter._jitter()
                # Asleep even when all gave up: this gate asks Redis again only at the wake,
                # and whoever comes meanwhile with an earlier deadline is told so at once.
                self._asleep = (now + delay, binding)
                try:
                    await limiter._sleep(delay)
                finally:
                    self._asleep = None
        finally:
            if limiter._gates.get(self.limits) is self and not self.live:
                del limiter._gates[self.limits]

    def _held_back(self, waits: tuple[float, ...], pause: float, now: float) -> RateLimit:
        """Count the wait for everyone held back; give up on those it would hold too long.
        Returns the limit that holds them longest."""
        held = self.live
        for limit, wait in zip(self.limits, waits, strict=True):
            if wait:
                try:
                    self.limiter._on_wait(limit, wait * held)
                except Exception:  # a metric must not stop the gate
                    log.exception("counting a rate-limit wait failed")
        binding = self.limits[waits.index(max(waits))]
        while self._deadlines and self._deadlines[0][0] < now + pause:
            _, _, waiter = heapq.heappop(self._deadlines)
            self._settle(waiter, RateLimitTimeout(binding, pause, now - waiter.since))
        return binding

    def _fail_all(self, exc: Exception) -> None:
        while self.waiters:
            self._settle(self.waiters.popleft(), exc)
        self._deadlines.clear()


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
