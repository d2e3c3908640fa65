"""Provider pacing: after a provider's rate-limit answer, deliveries to it take turns.

A rate-limit answer (HTTP 429, Slack ``ratelimited``) is a wait, not a failed attempt. Waiting
each refused delivery out alone would send them all again at the same moment, to be refused
again; instead each *bucket* (what the provider limits: a channel, or one Slack conversation)
hands out turns on one timeline: none before the provider's Retry-After, then one every
``spacing`` seconds. A refusal of a send made at the current pace doubles the spacing; each send
the provider accepts shrinks it by a twentieth (as TCP finds a link's pace), so a burst drains at
about the pace the provider accepts. A bucket never refused costs nothing.

A delivery whose turn is too far off to wait for in memory is told how long to wait elsewhere
(the retrier brings it back); its turn stays booked, so coming back it goes at once instead of
queueing again. Per process: each replica learns the pace for itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

INITIAL_SPACING = 0.5  # seconds between sends after the first rate-limit answer
MAX_SPACING = 60.0
SHRINK = 0.95  # per send the provider accepts
UNPACED_BELOW = 0.02  # a spacing this small is no pacing at all
STALE_BOOKING = 300.0  # a booked turn nobody came back for (another replica took it) is dropped


@dataclass(slots=True)
class _Bucket:
    closed_until: float = 0.0  # no send before this: the provider's Retry-After
    spacing: float = 0.0  # seconds between turns
    next_turn: float = 0.0  # the first turn not handed out yet
    slowed_at: float = 0.0  # when the spacing last grew: refusals of older sends do not count
    booked: dict[str, float] = field(default_factory=dict)  # delivery id -> its turn


class Pacer:
    """``await turn(...)`` before each send, then ``accepted`` or ``refused`` with the answer.
    Time is injected (seconds since the epoch: a booked turn becomes a next-attempt time)."""

    def __init__(
        self,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def now(self) -> float:
        return self._clock()

    def paced(self, bucket: str) -> bool:
        return bucket in self._buckets

    async def turn(self, bucket: str, delivery_id: str, max_wait: float) -> float:
        """0 once this delivery may send (after waiting for its turn, if that comes within
        ``max_wait`` seconds); else the seconds until its turn, booked for it."""
        state = self._buckets.get(bucket)
        if state is None:
            return 0.0
        now = self._clock()
        booked = state.booked.pop(delivery_id, None)
        if booked is not None and now >= state.closed_until:
            if booked - now <= max_wait:
                if booked > now:
                    await self._sleep(booked - now)
                return 0.0
            state.booked[delivery_id] = booked  # came back early: keep its place
            return booked - now
        at = max(now, state.closed_until, state.next_turn)
        state.next_turn = at + state.spacing
        if at - now <= max_wait:
            if at > now:
                await self._sleep(at - now)
            return 0.0
        self._book(state, delivery_id, at, now)
        return at - now

    def refused(
        self, bucket: str, delivery_id: str, retry_after: float | None, sent_at: float
    ) -> float:
        """The provider refused a send made at ``sent_at`` for its rate limit: close the bucket
        for its Retry-After, slow down, and book this delivery the next turn. Returns the
        seconds until that turn."""
        now = self._clock()
        state = self._buckets.setdefault(bucket, _Bucket())
        if sent_at >= state.slowed_at:  # sent at the current pace: the pace is too fast
            state.spacing = min(MAX_SPACING, max(INITIAL_SPACING, state.spacing * 2))
            state.slowed_at = now
        wait = state.spacing if retry_after is None else retry_after
        state.closed_until = max(state.closed_until, now + wait)
        at = max(state.closed_until, state.next_turn)
        state.next_turn = at + state.spacing
        self._book(state, delivery_id, at, now)
        return at - now

    def accepted(self, bucket: str) -> None:
        """The provider took a send: speed up a little; forget a bucket that is fast again."""
        state = self._buckets.get(bucket)
        if state is None:
            return
        state.spacing *= SHRINK
        now = self._clock()
        if (
            state.spacing < UNPACED_BELOW
            and not state.booked
            and state.closed_until <= now
            and state.next_turn <= now
        ):
            del self._buckets[bucket]

    def _book(self, state: _Bucket, delivery_id: str, at: float, now: float) -> None:
        state.booked[delivery_id] = at
        if len(state.booked) % 1000 == 0:  # now and then, not on every booking
            for stale in [d for d, t in state.booked.items() if t < now - STALE_BOOKING]:
                del state.booked[stale]
