"""Provider pacing: after a provider's rate-limit answer, deliveries to it take turns.

A rate-limit answer (HTTP 429, Slack ``ratelimited``) is a wait, not a failed attempt. Waiting
each refused delivery out alone would send them all again at the same moment, to be refused
again; instead each *bucket* (what the provider limits: a channel, or one Slack conversation)
sends no sooner than the provider's Retry-After and then one send per ``spacing`` seconds. A
refusal of a send made at the current pace, after the provider accepted one at it, doubles the
spacing; each send the provider accepts shrinks it by a tenth (as TCP finds a link's pace), so a
burst drains at about the pace the provider accepts. A bucket never refused costs nothing.

A refused delivery, or one whose turn is too far off to wait for in memory, is *booked* a turn
(booked turns are spread one spacing apart) and told to come back by then — earlier when the
wait is long, because the pace may have picked up meanwhile: coming back early it goes if the
bucket has room at the current pace, and at its booked turn it goes whatever the pace. Per
process: each replica learns the pace for itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

INITIAL_SPACING = 1.0  # seconds between sends after the first rate-limit answer (Slack: 1/s)
MAX_SPACING = 60.0
SHRINK = 0.9  # per send the provider accepts
UNPACED_BELOW = 0.02  # a spacing this small is no pacing at all
RECHECK = 2.0  # a delivery booked further off than this comes back after a quarter of its wait
STALE_BOOKING = 300.0  # a booked turn nobody came back for (another replica took it) is dropped


@dataclass(slots=True)
class _Bucket:
    closed_until: float = 0.0  # no send before this: the provider's Retry-After
    spacing: float = 0.0  # seconds between sends
    next_send: float = 0.0  # the earliest time of the next send at the current pace
    slowed_at: float = float("-inf")  # when the spacing last grew: older sends do not count
    # A send accepted since then: a refusal now says the pace is too fast. Refusals with none
    # accepted in between say only that the provider is still closed (a long episode), which
    # its Retry-After already covers.
    accepted_since_slowed: bool = True
    booked_tail: float = 0.0  # the latest turn booked
    booked: dict[str, float] = field(default_factory=dict)  # delivery id -> its turn


class Pacer:
    """``await turn(...)`` before each send, then ``accepted`` or ``refused`` with the answer.
    Time is injected (seconds since the epoch: a wait becomes a next-attempt time)."""

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
        """0 once this delivery may send (after waiting in memory, if its turn comes within
        ``max_wait`` seconds); else the seconds to wait elsewhere before asking again."""
        state = self._buckets.get(bucket)
        if state is None:
            return 0.0
        now = self._clock()
        booked = state.booked.get(delivery_id)
        if booked is not None and now >= booked and now >= state.closed_until:
            del state.booked[delivery_id]  # its booked turn: it goes, whatever the pace
            state.next_send = max(state.next_send, now + state.spacing)
            return 0.0
        at = max(now, state.closed_until, state.next_send)
        if at - now <= max_wait:
            state.booked.pop(delivery_id, None)
            state.next_send = at + state.spacing
            if at > now:
                await self._sleep(at - now)
            return 0.0
        if booked is None:
            booked = self._book(state, delivery_id, at, now)
        # Never before the bucket opens, even when its booked turn has come.
        return _come_back(max(booked, at) - now)

    def refused(
        self, bucket: str, delivery_id: str, retry_after: float | None, sent_at: float
    ) -> float:
        """The provider refused a send made at ``sent_at`` for its rate limit: close the bucket
        for its Retry-After, slow down, and book this delivery a turn. Returns the seconds to
        wait before asking again (at most until that turn)."""
        now = self._clock()
        state = self._buckets.get(bucket)
        if state is None:  # the first refusal: pacing starts
            state = self._buckets[bucket] = _Bucket()
            slow = True
        else:
            # Sent at the current pace (after the last slow-down; -inf: before any), with a
            # send accepted since: the pace is too fast.
            slow = sent_at > state.slowed_at and state.accepted_since_slowed
        if slow:
            state.spacing = min(MAX_SPACING, max(INITIAL_SPACING, state.spacing * 2))
            state.slowed_at = now
            state.accepted_since_slowed = False
        wait = state.spacing if retry_after is None else retry_after
        state.closed_until = max(state.closed_until, now + wait)
        state.next_send = max(state.next_send, state.closed_until)
        booked = self._book(state, delivery_id, state.closed_until, now)
        return max(wait, _come_back(booked - now))

    def accepted(self, bucket: str) -> None:
        """The provider took a send: speed up a little; forget a bucket that is fast again."""
        state = self._buckets.get(bucket)
        if state is None:
            return
        state.spacing *= SHRINK
        state.accepted_since_slowed = True
        now = self._clock()
        if state.spacing < UNPACED_BELOW and state.closed_until <= now and state.next_send <= now:
            if state.booked:  # turns nobody came back for (another replica took them)
                state.booked = {d: t for d, t in state.booked.items() if t >= now - STALE_BOOKING}
            if not state.booked:
                del self._buckets[bucket]

    def _book(self, state: _Bucket, delivery_id: str, earliest: float, now: float) -> float:
        at = max(earliest, state.booked_tail + state.spacing)
        state.booked_tail = at
        state.booked[delivery_id] = at
        if len(state.booked) % 1000 == 0:  # now and then, not on every booking
            for stale in [d for d, t in state.booked.items() if t < now - STALE_BOOKING]:
                del state.booked[stale]
        return at


def _come_back(wait: float) -> float:
    """How long a booked delivery waits before asking again: all of a short wait, a quarter of
    a long one (the pace may pick up meanwhile)."""
    return wait if wait <= RECHECK else max(RECHECK, wait / 4)
