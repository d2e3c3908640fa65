"""Receivers that do not answer: after a few sends in a row with no answer, fail fast.

A receiver that accepts connections and never answers costs each send its whole timeout; its
deliveries then take minutes per retry round instead of following the retry schedule, and they
hold room other work needs. After THRESHOLD sends in a row got no answer (a timeout, or no
connection at all), further sends to it fail at once as transient — an attempt like any other,
so its deliveries reach the dead-letter queue on the schedule the config says — except one
probe per open period; an answer of any kind (even an error status) closes the breaker, a
probe that gets none doubles the period, up to MAX_OPEN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

THRESHOLD = 5  # sends in a row without an answer
INITIAL_OPEN = 5.0  # seconds without sends, the first time
MAX_OPEN = 60.0


@dataclass(slots=True)
class _State:
    silent: int = 0  # sends in a row without an answer
    open_until: float = 0.0
    period: float = INITIAL_OPEN
    probe_since: float | None = None  # a probe is out since then


class Breakers:
    """One breaker per receiver (a channel); ``clock`` is monotonic seconds."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._states: dict[str, _State] = {}

    def closed_for(self, key: str) -> float | None:
        """None: send (perhaps as the probe). Else the seconds until the next probe: fail this
        send at once."""
        state = self._states.get(key)
        if state is None or state.silent < THRESHOLD:
            return None
        now = self._clock()
        if now < state.open_until:
            return state.open_until - now
        if state.probe_since is not None and now - state.probe_since < state.period:
            return state.period - (now - state.probe_since)  # a probe is out: wait for it
        state.probe_since = now  # this send is the probe
        return None

    def silent_count(self, key: str) -> int:
        state = self._states.get(key)
        return state.silent if state else 0

    def answered(self, key: str) -> None:
        """The receiver answered (whatever it said): it is there."""
        self._states.pop(key, None)

    def unanswered(self, key: str) -> None:
        """A send got no answer: a timeout, or no connection."""
        state = self._states.setdefault(key, _State())
        state.silent += 1
        if state.probe_since is not None:  # the probe failed: wait longer before the next
            state.probe_since = None
            state.period = min(MAX_OPEN, state.period * 2)
        if state.silent >= THRESHOLD:
            state.open_until = self._clock() + state.period
