"""The breaker for receivers that do not answer: fail fast after five silent sends, probe."""

from __future__ import annotations

from notifierd.pipeline.breaker import INITIAL_OPEN, MAX_OPEN, THRESHOLD, Breakers


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_sends_go_until_the_receiver_misses_five_in_a_row() -> None:
    clock = Clock()
    b = Breakers(clock)
    for _ in range(THRESHOLD - 1):
        assert b.closed_for("hook") is None
        b.unanswered("hook")
    b.answered("hook")  # an answer of any kind starts the count again
    for _ in range(THRESHOLD - 1):
        b.unanswered("hook")
    assert b.closed_for("hook") is None
    b.unanswered("hook")
    assert b.closed_for("hook") == INITIAL_OPEN
    assert b.closed_for("other") is None  # one receiver's silence is its own


def test_one_probe_per_open_period_and_a_silent_probe_doubles_the_period() -> None:
    clock = Clock()
    b = Breakers(clock)
    for _ in range(THRESHOLD):
        b.unanswered("hook")
    clock.now += INITIAL_OPEN
    assert b.closed_for("hook") is None  # the probe goes
    assert b.closed_for("hook") is not None  # the others wait for what it finds
    b.unanswered("hook")  # the probe got no answer either
    assert b.closed_for("hook") == 2 * INITIAL_OPEN
    for _ in range(10):
        clock.now += 1000
        assert b.closed_for("hook") is None
        b.unanswered("hook")
    assert b.closed_for("hook") == MAX_OPEN


def test_an_answered_probe_closes_the_breaker() -> None:
    clock = Clock()
    b = Breakers(clock)
    for _ in range(THRESHOLD):
        b.unanswered("hook")
    clock.now += INITIAL_OPEN
    assert b.closed_for("hook") is None
    b.answered("hook")
    assert [b.closed_for("hook") for _ in range(3)] == [None, None, None]


def test_a_probe_that_never_reports_back_is_replaced_after_a_period() -> None:
    """A probe cut off (a shutdown) must not keep the breaker open for good."""
    clock = Clock()
    b = Breakers(clock)
    for _ in range(THRESHOLD):
        b.unanswered("hook")
    clock.now += INITIAL_OPEN
    assert b.closed_for("hook") is None  # a probe, never heard of again
    clock.now += INITIAL_OPEN
    assert b.closed_for("hook") is None  # another one goes
