"""When to try a failed delivery again: exponential backoff with jitter, from the config."""

from __future__ import annotations

import random
from collections.abc import Callable

from notifierd.config.model import RetrySettings

Jitter = Callable[[], float]  # uniform in [-1, 1]


def symmetric_jitter(rng: random.Random | None = None) -> Jitter:
    source = rng or random.Random()
    return lambda: source.uniform(-1.0, 1.0)


def next_delay(
    attempts: int, retry: RetrySettings, jitter: Jitter, retry_after: float | None = None
) -> float | None:
    """Seconds before the next attempt after ``attempts`` tries, or None when retries are spent.

    Attempt 1 failing waits ``initial_delay``, then x``multiplier`` each time, capped at
    ``max_delay``, +/- ``jitter`` of itself. A server's Retry-After is a floor, never shortened.
    """
    if attempts > retry.max_retries:
        return None
    base = min(retry.initial_delay * retry.multiplier ** (attempts - 1), retry.max_delay)
    delay = max(0.0, base * (1 + retry.jitter * jitter()))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
