"""Send slots: the sends under way per channel, at most its ``max_in_flight``.

Few at once for channels people read (a crash repeats every send whose answer had not come
back); and a channel whose slots are all taken and none has come free for a while is *stuck*
(a receiver that hangs): a delivery that may not wait long is turned away at once, not after
its wait, so a hanging receiver's backlog never holds the intake in front of other channels.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from notifierd.config.model import Channel

# Sends under way at once per channel unless it sets max_in_flight: for channels read by people
# few; for webhooks their receiver's connection cap (receivers drop repeats by delivery id).
DEFAULT_MAX_IN_FLIGHT = {"webhook": 100}
DEFAULT_MAX_IN_FLIGHT_FOR_PEOPLE = 8
# All slots taken and none freed for this long: the channel is stuck.
STUCK_AFTER = 0.5


def max_in_flight(channel: Channel) -> int:
    value = channel.settings.get("max_in_flight")
    if isinstance(value, int) and value >= 1:
        return value
    return DEFAULT_MAX_IN_FLIGHT.get(channel.type, DEFAULT_MAX_IN_FLIGHT_FOR_PEOPLE)


@dataclass(slots=True)
class _Slots:
    free: int
    moved_at: float  # when a slot was last taken without waiting, or given back
    # Deliveries waiting for a slot, oldest first: each a future that gets True when a slot is
    # handed to it, False when its wait ran out.
    waiting: collections.deque[asyncio.Future[bool]] = field(default_factory=collections.deque)


class SendSlots:
    """A counter and a queue of futures per channel: cheaper than a semaphore under
    ``asyncio.wait_for`` (a task per waiter), which a busy webhook makes the common case."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._channels: dict[tuple[str, int], _Slots] = {}

    async def take(self, channel: Channel, wait: float | None) -> bool:
        """Take a slot of ``channel``: True once taken; False when none came free within
        ``wait`` seconds (None: wait as long as it takes), or at once when it is stuck."""
        slots = self._of(channel)
        if slots.free > 0:
            slots.free -= 1
            slots.moved_at = self._clock()
            return True
        if wait is not None and self._clock() - slots.moved_at > STUCK_AFTER:
            return False
        loop = asyncio.get_running_loop()
        handed: asyncio.Future[bool] = loop.create_future()
        slots.waiting.append(handed)
        timer = loop.call_later(wait, _run_out, handed) if wait is not None else None
        try:
            return await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled() and handed.result():
                self.give_back(channel)  # handed over just as the waiter was cancelled
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def give_back(self, channel: Channel) -> None:
        slots = self._of(channel)
        slots.moved_at = self._clock()
        while slots.waiting:
            handed = slots.waiting.popleft()
            if not handed.done():  # the oldest still waiting gets it
                handed.set_result(True)
                return
        slots.free += 1

    def _of(self, channel: Channel) -> _Slots:
        key = (channel.name, max_in_flight(channel))
        slots = self._channels.get(key)
        if slots is None:  # new, or its max_in_flight changed with a reload
            slots = self._channels[key] = _Slots(key[1], self._clock())
        return slots


def _run_out(handed: asyncio.Future[bool]) -> None:
    if not handed.done():
        handed.set_result(False)
