"""Send slots: the sends under way per channel, at most its ``max_in_flight``.

Few at once for channels people read (a crash repeats every send whose answer had not come
back); and a channel whose slots are all taken and none has come free for a while is *stuck*
(a receiver that hangs): a delivery that may not wait long is turned away at once, not after
its wait, so a hanging receiver's backlog never holds the intake in front of other channels.
"""

from __future__ import annotations

import asyncio
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
    semaphore: asyncio.Semaphore
    moved_at: float  # when the last slot was taken while others were free, or one was freed
    waiting: int = field(default=0)


class SendSlots:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._channels: dict[tuple[str, int], _Slots] = {}

    async def take(self, channel: Channel, wait: float | None) -> bool:
        """Take a slot of ``channel``: True once taken; False when none came free within
        ``wait`` seconds (None: wait as long as it takes), or at once when it is stuck."""
        slots = self._of(channel)
        if not slots.semaphore.locked():
            await slots.semaphore.acquire()  # free: taken without waiting
            slots.moved_at = self._clock()
            return True
        if wait is not None and self._clock() - slots.moved_at > STUCK_AFTER:
            return False
        try:
            if wait is None:
                await slots.semaphore.acquire()
            else:
                await asyncio.wait_for(slots.semaphore.acquire(), wait)
        except TimeoutError:
            return False
        return True

    def give_back(self, channel: Channel) -> None:
        slots = self._of(channel)
        slots.semaphore.release()
        slots.moved_at = self._clock()

    def _of(self, channel: Channel) -> _Slots:
        key = (channel.name, max_in_flight(channel))
        slots = self._channels.get(key)
        if slots is None:  # new, or its max_in_flight changed with a reload
            slots = self._channels[key] = _Slots(asyncio.Semaphore(key[1]), self._clock())
        return slots
