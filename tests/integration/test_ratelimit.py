"""Rate limits on a real Redis: exact admission counts, sensible waits, replicas agreeing."""

from __future__ import annotations

import asyncio
import time

import pytest

from notifierd.config.model import Channel, RateLimit
from notifierd.pipeline.ratelimit import RateLimiter, RateLimitTimeout, limits_for
from notifierd.redisio.connect import connect_redis
from notifierd.redisio.keys import Keys
from tests.integration.ratelimit_builders import bucket, limiter, sliding
from tests.integration.redis_fixtures import RedisPrefix, redis_prefix

__all__ = ["redis_prefix"]


async def test_sliding_window_admits_exactly_limit_then_says_how_long(
    redis_prefix: RedisPrefix,
) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(5, 2.0)
    for _ in range(5):
        assert await limits.try_acquire(limit) == 0
    wait = await limits.try_acquire(limit)
    assert 1.5 < wait <= 2.0  # until the first of the five leaves the window
    assert await limits.try_acquire(limit) > 0  # refusals are not counted


async def test_sliding_window_admits_again_as_the_window_slides(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(3, 0.3)
    for _ in range(3):
        assert await limits.try_acquire(limit) == 0
    wait = await limits.try_acquire(limit)
    assert 0 < wait <= 0.3
    await asyncio.sleep(wait + 0.01)
    assert await limits.try_acquire(limit) == 0


async def test_token_bucket_allows_a_burst_then_the_refill_rate(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    # 2 per second, 5 at once: a token every 500 ms, slow enough that a loaded machine's
    # pauses between these calls do not refill one unnoticed.
    limit = bucket(2, 1.0, burst=5)
    for _ in range(5):
        assert await limits.try_acquire(limit) == 0
    wait = await limits.try_acquire(limit)
    assert 0 < wait <= 0.5
    await asyncio.sleep(1.0)  # two tokens back
    assert await limits.try_acquire(limit) == 0
    assert await limits.try_acquire(limit) == 0
    assert await limits.try_acquire(limit) > 0


async def test_token_bucket_without_burst_holds_limit_tokens(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    limit = bucket(4, 60.0)
    assert [await limits.try_acquire(limit) for _ in range(5)][-1] == pytest.approx(15, abs=0.1)


async def test_several_limits_consume_all_or_nothing(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    tight, loose = sliding(1, 60.0), bucket(5, 60.0, type_="slack")
    assert await limits.try_acquire_all([tight, loose]) == (0, 0)
    waits = await limits.try_acquire_all([tight, loose])
    assert waits[0] > 0
    assert waits[1] == 0
    # The refused attempt took nothing from the loose limit: 4 of its 5 are still there.
    assert [await limits.try_acquire(loose) for _ in range(5)].count(0) == 4


async def test_acquire_delays_but_admits_everything(redis_prefix: RedisPrefix) -> None:
    waits: list[tuple[str, float]] = []
    limits = RateLimiter(
        redis_prefix.redis,
        Keys(redis_prefix.prefix),
        on_wait=lambda limit, s: waits.append((limit.key, s)),
    )
    channel, kind = sliding(10, 0.5), bucket(100, 1.0, burst=100, type_="slack")
    started = time.monotonic()
    waited = await asyncio.gather(*(limits.acquire([channel, kind]) for _ in range(30)))
    elapsed = time.monotonic() - started
    assert len(waited) == 30
    assert elapsed >= 0.99  # 10 now, 10 after 0.5 s, 10 after 1 s
    assert sorted(waited)[9] < 0.4  # the first ten were admitted in the first window
    assert max(waited) >= 0.99
    assert waits and {key for key, _ in waits} == {"channel:ops-slack"}
    # Counted once a cycle for everyone held back: 20 waiters for ~0.5 s, then 10 for ~0.5 s.
    assert 12 < sum(s for _, s in waits) < 18


async def test_acquire_gives_up_past_max_wait_without_consuming(
    redis_prefix: RedisPrefix,
) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(1, 30.0)
    assert await limits.acquire([limit]) == pytest.approx(0, abs=0.05)
    with pytest.raises(RateLimitTimeout) as caught:
        await limits.acquire([limit], max_wait=0.5)
    assert caught.value.limit == limit
    assert 29 < caught.value.retry_after <= 30
    assert "channel:ops-slack" in str(caught.value)


async def test_a_waiter_arriving_while_the_gate_sleeps_gives_up_at_once_not_at_the_wake(
    redis_prefix: RedisPrefix,
) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(1, 10.0)
    await limits.acquire([limit])
    patient = asyncio.create_task(limits.acquire([limit]))  # keeps the gate asleep ~10 s
    try:
        await asyncio.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(RateLimitTimeout) as caught:
            await limits.acquire([limit], max_wait=0.5)
        assert time.monotonic() - started < 3  # not at the gate's wake, ~9.8 s later
        assert 5 < caught.value.retry_after <= 10.5
    finally:
        patient.cancel()
        await asyncio.gather(patient, return_exceptions=True)


async def test_a_waiter_after_everyone_gave_up_is_told_at_once(
    redis_prefix: RedisPrefix,
) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(1, 10.0)
    await limits.acquire([limit])
    with pytest.raises(RateLimitTimeout):
        await limits.acquire([limit], max_wait=0.5)
    await asyncio.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(RateLimitTimeout):  # told now: the slot is ~9.8 s away
        await limits.acquire([limit], max_wait=0.5)
    assert time.monotonic() - started < 3


async def test_replicas_together_never_exceed_the_limit(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    replicas = [RateLimiter(await redis_prefix.client(), keys) for _ in range(2)]
    for limit in (sliding(20, 30.0), bucket(20, 60.0, type_="sms")):
        results = await asyncio.gather(*(replicas[i % 2].try_acquire(limit) for i in range(200)))
        assert results.count(0) == 20, limit.algorithm


async def test_replicas_acquiring_concurrently_pace_to_the_limit(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    replicas = [RateLimiter(await redis_prefix.client(), keys) for _ in range(2)]
    limit = sliding(5, 0.3)
    admitted: list[float] = []

    async def deliver(i: int) -> None:
        await replicas[i % 2].acquire([limit])
        admitted.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(deliver(i) for i in range(20)))
    assert len(admitted) == 20
    assert time.monotonic() - started >= 0.89  # 4 windows' worth: 3 full waits
    # The server admits by its own clock; ours sees each admission a little later, so allow
    # a small margin while still catching a doubled rate.
    admitted.sort()
    for i in range(len(admitted) - 5):
        assert admitted[i + 5] - admitted[i] >= 0.3 - 0.05


async def test_a_lowered_limit_waits_for_enough_entries_to_leave(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    for _ in range(6):
        assert await limits.try_acquire(sliding(10, 2.0)) == 0
    await asyncio.sleep(0.2)
    assert await limits.try_acquire(sliding(10, 2.0)) == 0  # 7 in the window now
    # Reloaded with limit 3: 5 of the first six must leave before one slot is free.
    wait = await limits.try_acquire(sliding(3, 2.0))
    assert 1.5 < wait <= 1.85


async def test_switching_algorithm_on_reload_is_not_a_type_error(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    assert await limits.try_acquire(sliding(1, 60.0, channel="x")) == 0
    switched = RateLimit(limit=1, window=60.0, algorithm="token_bucket", channel="x")
    assert await limits.try_acquire(switched) == 0


def test_limits_for_takes_the_channel_and_its_type() -> None:
    own = sliding(50, 60.0, channel="ops-slack")
    by_type = bucket(10, 1.0, type_="slack")
    other = bucket(100, 60.0, type_="email")
    unrelated = sliding(1, 1.0, channel="other-slack")
    channel = Channel(name="ops-slack", type="slack", settings={})
    assert limits_for([own, by_type, other, unrelated], channel) == (own, by_type)
    assert limits_for([other], channel) == ()


async def test_a_thousand_waiters_share_a_few_connections_and_all_get_through(
    redis_prefix: RedisPrefix,
) -> None:
    """Waiting costs no connection: waiters queue in-process and one call admits many."""
    client = await connect_redis(redis_prefix.url, max_connections=2, pool_timeout=5)
    try:
        limits = RateLimiter(client, Keys(redis_prefix.prefix))
        limit = sliding(250, 0.5)
        calls = 0
        admit = limits.admit

        async def counted(*args: object, **kwargs: object) -> tuple[int, tuple[float, ...]]:
            nonlocal calls
            calls += 1
            return await admit(*args, **kwargs)  # type: ignore[arg-type]

        limits.admit = counted  # type: ignore[method-assign]
        started = time.monotonic()
        waited = await asyncio.gather(*(limits.acquire([limit]) for _ in range(1000)))
        elapsed = time.monotonic() - started
        assert len(waited) == 1000
        assert 1.45 <= elapsed < 5  # 250 now, then 250 per half second
        # A handful of calls per window, not one per waiter per wake-up.
        assert calls <= 40
        pool = client.connection_pool
        opened = len(pool._available_connections) + len(pool._in_use_connections)  # type: ignore[attr-defined]
        assert opened <= 2
        # Served in arrival order, a window at a time: each 250 before any of the next (an
        # ordering, not a wall-clock bound on the first window: a loaded machine stretches it).
        for window in range(3):
            first, then = waited[250 * window : 250 * (window + 1)], waited[250 * (window + 1) :]
            assert max(first) < min(then)
        assert min(waited[750:]) >= 1.4
    finally:
        await client.aclose()
