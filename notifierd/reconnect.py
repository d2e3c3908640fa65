"""Waiting out Redis or Postgres: run an operation again, backing off, while it fails for a while.

One helper for every in-process reconnect loop (fetching, acknowledging, recording, claiming).
Delivery retries are a different thing: durable, timed by ``pipeline/retry.py`` from the config,
kept in Postgres. Time and jitter are injected, so tests run without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger("notifierd.reconnect")

T = TypeVar("T")


def backoff_delay(
    attempt: int,
    *,
    initial: float = 0.1,
    max_delay: float = 5.0,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Exponential in ``attempt`` (1, 2, ...), capped, then scaled into [50%, 100%]: replicas
    that lost the same server do not all come back in the same millisecond."""
    base = min(max_delay, initial * 2 ** min(attempt - 1, 32))
    return base * (0.5 + 0.5 * jitter())


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait between tries; ``sleep`` and ``jitter`` injected for tests."""

    initial: float = 0.1
    max_delay: float = 5.0
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    jitter: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic  # how long an operation has been failing

    def delay(self, attempt: int) -> float:
        return backoff_delay(
            attempt, initial=self.initial, max_delay=self.max_delay, jitter=self.jitter
        )


DEFAULT = Backoff()


# While an operation keeps failing, how often its WARNING comes back (seconds since the last):
# an outage of ten minutes is a dozen lines per operation, not one per try.
REMIND_EVERY = 60.0


async def until_done(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    retry_if: Callable[[BaseException], bool],
    backoff: Backoff = DEFAULT,
    max_attempts: int | None = None,
    logger: logging.Logger = log,
    event: str | None = None,
    on_retry: Callable[[BaseException], object] | None = None,
) -> T:
    """``await op()`` until it succeeds; a failure ``retry_if`` accepts is tried again after a
    pause, any other is raised, and so is the last one after ``max_attempts`` tries (None:
    until cancelled). ``what`` names the operation: its first failure is a WARNING saying when
    it is tried again, later ones DEBUG with a WARNING again each ``REMIND_EVERY`` seconds
    while it lasts, and its success after them one INFO line."""
    attempt = 0
    failing_since = warned_at = 0.0  # ``backoff.clock()`` at the first failure, the last WARNING
    while True:
        try:
            result = await op()
        except Exception as exc:
            attempt += 1
            if not retry_if(exc) or (max_attempts is not None and attempt >= max_attempts):
                raise
            delay = backoff.delay(attempt)
            if on_retry is not None:
                on_retry(exc)
            reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            extra = {"event": event} if event else None
            now = backoff.clock()
            if attempt == 1:
                failing_since = warned_at = now
                logger.warning(
                    "%s failed (attempt 1), again in %.1fs: %s", what, delay, reason, extra=extra
                )
            elif now - warned_at >= REMIND_EVERY:
                warned_at = now
                logger.warning(
                    "%s still failing after %d attempts over %.0fs, again in %.1fs: %s",
                    what,
                    attempt,
                    now - failing_since,
                    delay,
                    reason,
                    extra=extra,
                )
            else:
                logger.debug(
                    "%s failed (attempt %d), again in %.1fs: %s",
                    what,
                    attempt,
                    delay,
                    reason,
                    extra=extra,
                )
            await backoff.sleep(delay)
            continue
        if attempt:
            logger.info("%s succeeded after %d failed attempt(s)", what, attempt)
        return result


def always(_: BaseException) -> bool:
    """For operations whose only failures are the server's (an acknowledgement in Redis)."""
    return True


class Outage:
    """How a job that runs again by itself (a poll, a pass) reports failing while a server is
    away: the first failure of a stretch is one WARNING line saying what happens next, the same
    job's later failures are DEBUG, and its first success after them one INFO line. A failure
    ``transient`` does not accept is a bug, not an outage: ERROR with its traceback, every time."""

    def __init__(
        self,
        logger: logging.Logger,
        transient: Callable[[BaseException], bool],
        *,
        event: str | None = None,
    ) -> None:
        self.logger = logger
        self.transient = transient
        self.event = event
        self._failing: set[str] = set()  # the jobs failing since their last success

    def failed(self, what: str, then: str, exc: BaseException) -> None:
        """``what`` failed with ``exc``; ``then`` says what happens next."""
        if not self.transient(exc):
            self.logger.error("%s failed; %s", what, then, exc_info=exc)
            return
        level = logging.DEBUG if what in self._failing else logging.WARNING
        self._failing.add(what)
        self.logger.log(
            level,
            "%s failed: %s: %s; %s",
            what,
            type(exc).__name__,
            " ".join(str(exc).split()).rstrip("."),  # redis ends its messages with one
            then,
            extra={"event": self.event} if self.event else None,
        )

    def succeeded(self, what: str) -> None:
        if what in self._failing:
            self._failing.discard(what)
            self.logger.info("%s works again", what)
