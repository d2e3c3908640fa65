"""Provider pacing: after a 429, deliveries take turns spread at the pace the provider accepts."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from notifierd.pipeline.pacing import INITIAL_SPACING, MAX_SPACING, Pacer


class FakeTime:
    """A clock that only moves when the pacer sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(time: FakeTime) -> Pacer:
    return Pacer(time.clock, time.sleep)


async def test_a_bucket_never_refused_sends_at_once_and_costs_nothing() -> None:
    time = FakeTime()
    p = pacer(time)
    assert [await p.turn("slack", f"d{i}", 1.0) for i in range(100)] == [0.0] * 100
    assert time.slept == []
    assert not p.paced("slack")


async def test_a_refusal_waits_at_least_retry_after_and_books_a_turn() -> None:
    time = FakeTime()
    p = pacer(time)
    wait = p.refused("slack", "d1", retry_after=8.0, sent_at=time.now)
    assert wait == 8.0
    # Coming back at its turn it goes at once, without queueing again.
    time.now += 8.0
    assert await p.turn("slack", "d1", 1.0) == 0.0
    assert time.slept == []


async def test_refusals_of_one_burst_book_turns_one_spacing_apart() -> None:
    time = FakeTime()
    p = pacer(time)
    sent_at = time.now
    time.now += 0.05  # the answers arrive together, a moment after the burst went out
    waits = [p.refused("slack", f"d{i}", retry_after=1.0, sent_at=sent_at) for i in range(30)]
    # One slow-down for the whole burst (all its sends went out before the first answer).
    # Short waits are waited whole; a delivery booked far off comes back after a quarter of
    # its wait, to go early if the pace has picked up.
    assert waits[:2] == [1.0, 2.0]
    assert waits[29] == (1.0 + 29 * INITIAL_SPACING) / 4
    # Each comes back at its booked turn and goes then, in order, one spacing apart.
    time.now += 2.0
    assert await p.turn("slack", "d1", 0.0) == 0.0
    assert await p.turn("slack", "d2", 0.0) > 0  # booked for a second later


async def test_a_refusal_after_an_accepted_send_doubles_the_spacing_up_to_a_cap() -> None:
    time = FakeTime()
    p = pacer(time)
    spacings = []
    for i in range(12):
        time.now += 1000.0  # past every turn booked so far
        p.accepted("x")  # the provider took a send at the current pace ...
        sent_at = time.now
        time.now += 0.01
        p.refused("x", f"a{i}", retry_after=0.0, sent_at=sent_at)  # ... and refused the next
        assert await p.turn("x", f"a{i}", 0.0) == 0.0  # its turn: now (Retry-After 0)
        before = time.now
        assert await p.turn("x", f"b{i}", 1000.0) == 0.0  # waits one spacing in memory
        spacings.append(round(time.now - before, 6))
    assert spacings[:3] == [INITIAL_SPACING, 1.8 * INITIAL_SPACING, 3.24 * INITIAL_SPACING]
    assert spacings[-1] == MAX_SPACING


async def test_refusals_with_nothing_accepted_between_keep_the_pace() -> None:
    """A provider closed for a long episode refuses every probe; its Retry-After says how long,
    and the pace found before is kept for when it opens (no slowdown per refused probe)."""
    time = FakeTime()
    p = pacer(time)
    for i in range(5):
        sent_at = time.now
        time.now += 0.01
        wait = p.refused("x", f"probe{i}", retry_after=1.0, sent_at=sent_at)
        time.now += wait
        assert await p.turn("x", f"probe{i}", 0.0) == 0.0
    before = time.now
    assert await p.turn("x", "next", 1000.0) == 0.0
    assert time.now - before == INITIAL_SPACING


async def test_fresh_deliveries_wait_briefly_in_memory_or_come_back_later() -> None:
    time = FakeTime()
    p = pacer(time)
    assert p.refused("x", "old", retry_after=2.0, sent_at=time.now) == 2.0
    # A fresh delivery now: the bucket is closed for 2 s, too long to wait in memory.
    # Booked a turn after the refused one (in 3 s); asked to come back when the bucket opens.
    assert await p.turn("x", "new", 1.0) == 2.0
    # Once it opens, deliveries within max_wait of their turn sleep for it, one spacing apart.
    time.now += 2.0
    assert await p.turn("x", "old", 1.0) == 0.0
    assert await p.turn("x", "new", 1.5) == 0.0
    assert time.slept == [INITIAL_SPACING]


async def test_accepted_sends_speed_up_until_the_bucket_is_forgotten() -> None:
    time = FakeTime()
    p = pacer(time)
    p.refused("x", "d", retry_after=1.0, sent_at=time.now)
    time.now += 1.0
    assert await p.turn("x", "d", 1.0) == 0.0
    sends = 0
    while p.paced("x"):
        p.accepted("x")
        sends += 1
        time.now += 0.1
        assert sends < 1000
    assert 20 < sends < 100  # a tenth per accepted send: back to full speed in a few dozen


@given(
    st.lists(
        st.tuples(st.sampled_from(["send", "refused", "accepted"]), st.floats(0, 5)),
        max_size=60,
    )
)
def test_no_send_inside_a_retry_after_and_no_delivery_starves(
    events: list[tuple[str, float]],
) -> None:
    """Whatever the provider answers, nothing is sent while a Retry-After it gave is running,
    a refused delivery is told to wait at least that long, and every delivery that comes back
    when told is sent within a bounded number of returns."""
    time = FakeTime()
    p = pacer(time)
    closed_until = 0.0
    waiting: list[tuple[float, str]] = []  # (when it comes back, delivery id)

    async def attempt(delivery: str) -> None:
        nonlocal closed_until
        wait = await p.turn("b", delivery, 1.0)
        if wait > 0:
            waiting.append((time.now + wait, delivery))
            return
        assert time.now >= closed_until - 1e-9, "sent inside a Retry-After"

    async def run() -> None:
        nonlocal closed_until
        for i, (kind, value) in enumerate(events):
            time.now += value / 10
            if kind == "send":
                await attempt(f"d{i}")
            elif kind == "refused":
                wait = p.refused("b", f"d{i}", retry_after=value, sent_at=time.now - 0.01)
                assert wait >= value - 1e-9
                closed_until = max(closed_until, time.now + value)
                waiting.append((time.now + wait, f"d{i}"))
            else:
                p.accepted("b")
        returns = 20 * len(waiting)  # at most 20 returns each
        for _ in range(returns):  # everyone left comes back when told; the provider accepts
            if not waiting:
                return
            waiting.sort()
            at, delivery = waiting.pop(0)
            time.now = max(time.now, at)
            await attempt(delivery)
        assert not waiting, f"{len(waiting)} deliveries still waiting after {returns} returns"

    asyncio.run(run())
