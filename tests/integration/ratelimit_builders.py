"""Rate limits and a limiter on a test's own Redis key prefix, for the rate-limit tests."""

from __future__ import annotations

from notifierd.config.model import RateLimit
from notifierd.pipeline.ratelimit import RateLimiter
from notifierd.redisio.keys import Keys
from tests.integration.redis_fixtures import RedisPrefix


def limiter(env: RedisPrefix) -> RateLimiter:
    return RateLimiter(env.redis, Keys(env.prefix))


def sliding(limit: int, window: float, channel: str = "ops-slack") -> RateLimit:
    return RateLimit(limit=limit, window=window, algorithm="sliding_window", channel=channel)


def bucket(limit: int, window: float, burst: int | None = None, type_: str = "email") -> RateLimit:
    return RateLimit(limit=limit, window=window, algorithm="token_bucket", burst=burst, type=type_)
