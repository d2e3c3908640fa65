"""Send slots per channel: a cap, waiting in order, a bounded wait, and a stuck channel."""

from __future__ import annotations

import asyncio

import pytest

from notifierd.config.model import Channel
from notifierd.pipeline.sendslots import STUCK_AFTER, SendSlots, max_in_flight

SLACK = Channel(name="ops-slack", type="slack", settings={"max_in_flight": 2})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_defaults_few_for_people_and_more_for_webhooks() -> None:
    assert max_in_flight(Channel(name="s", type="slack", settings={})) == 8
    assert max_in_flight(Channel(name="e", type="email", settings={})) == 8
    assert max_in_flight(Channel(name="w", type="webhook", settings={})) == 100
    assert max_in_flight(SLACK) == 2


async def test_waiters_get_slots_in_order_as_they_come_free() -> None:
    slots = SendSlots(Clock())
    assert await slots.take(SLACK, None) and await slots.take(SLACK, None)
    order: list[str] = []

    async def wait(name: str) -> None:
        assert await slots.take(SLACK, None)
        order.append(name)

    waiters = [asyncio.create_task(wait(n)) for n in ("first", "second")]
    await asyncio.sleep(0)
    assert order == []
    slots.give_back(SLACK)
    await asyncio.sleep(0)
    slots.give_back(SLACK)
    await asyncio.gather(*waiters)
    assert order == ["first", "second"]


async def test_a_bounded_wait_gives_up_and_a_stuck_channel_turns_away_at_once() -> None:
    clock = Clock()
    slots = SendSlots(clock)
    assert await slots.take(SLACK, None) and await slots.take(SLACK, None)
    assert await slots.take(SLACK, 0.05) is False  # none came free within its wait
    clock.now += STUCK_AFTER + 0.1  # all taken, none given back for a while: stuck
    started = asyncio.get_running_loop().time()
    assert await slots.take(SLACK, 10.0) is False
    assert asyncio.get_running_loop().time() - started < 0.05  # at once, not after 10 s
    unbounded = asyncio.create_task(slots.take(SLACK, None))  # e.g. an alert's follow-up
    await asyncio.sleep(0.01)
    assert not unbounded.done()
    slots.give_back(SLACK)
    assert await unbounded is True


async def test_a_slot_handed_to_a_cancelled_waiter_goes_to_the_next() -> None:
    slots = SendSlots(Clock())
    assert await slots.take(SLACK, None) and await slots.take(SLACK, None)
    cancelled = asyncio.create_task(slots.take(SLACK, None))
    later = asyncio.create_task(slots.take(SLACK, None))
    await asyncio.sleep(0)
    slots.give_back(SLACK)  # handed to the first waiter ...
    cancelled.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await asyncio.wait_for(later, 1.0) is True  # the slot was not lost
