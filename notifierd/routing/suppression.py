"""Suppression windows: a fixed start/end, or a recurring cron + duration in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from notifierd.config.cron import parse_cron
from notifierd.config.model import Suppression

_US = timedelta(microseconds=1)

# Back-to-back recurrences followed before an end counts as "not in sight".
_CHAIN_LIMIT = 5000


class Window:
    """When one suppression is in force; remembers its last answer for the hot path.

    A recurring window lasts ``duration`` of elapsed time from each fire instant, so one that
    spans a DST change ends an hour earlier or later on the wall clock.
    """

    __slots__ = ("_cache", "_duration", "_schedule", "suppression")

    def __init__(self, suppression: Suppression) -> None:
        self.suppression = suppression
        self._schedule = (
            parse_cron(suppression.cron, suppression.timezone) if suppression.cron else None
        )
        self._duration = timedelta(seconds=suppression.duration or 0)
        # (valid_from, valid_until, active): the answer holds for now in [from, until);
        # until None means "for ever after".
        self._cache: tuple[datetime, datetime | None, bool] | None = None

    def contains(self, now: datetime) -> bool:
        """True when ``now`` lies inside the window (start inclusive, end exclusive)."""
        return self.answer(now)[2]

    def answer(self, now: datetime) -> tuple[datetime, datetime | None, bool]:
        """``(valid_from, valid_until, active)``: whether ``now`` is inside, and for how long that
        answer holds (``valid_until`` None: for ever after)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        cache = self._cache
        if cache is not None and cache[0] <= now and (cache[1] is None or now < cache[1]):
            return cache
        cache = self._state(_aware(now))
        self._cache = cache
        return cache

    def _state(self, now: datetime) -> tuple[datetime, datetime | None, bool]:
        s = self.suppression
        if self._schedule is None:
            start = _aware(s.start) if s.start else None
            end = _aware(s.end) if s.end else None
            if start is not None and now < start:
                return now, start, False
            if end is not None and now >= end:
                return end, None, False
            return start or now, end, True
        if self._duration <= timedelta(0):
            return now, None, False
        # The earliest window still open at ``now`` began after now - duration.
        fire = self._schedule.next_fire(now - self._duration + _US)
        if fire is None:
            return now, None, False
        if fire <= now:
            return fire, fire + self._duration, True
        return now, fire, False

    def ends_at(self, now: datetime, horizon: timedelta = timedelta(days=366)) -> datetime | None:
        """When the window in force at ``now`` closes, following back-to-back recurrences.

        None when it is not in force, or has no end within ``horizon``.
        """
        now = _aware(now)
        if not self.contains(now):
            return None
        if self._schedule is None:
            return _aware(self.suppression.end) if self.suppression.end else None
        fire = self._schedule.next_fire(now - self._duration + _US)
        assert fire is not None
        end = fire + self._duration
        limit = now + horizon
        for _ in range(_CHAIN_LIMIT):
            if end > limit:
                break
            following = self._schedule.next_fire(fire + _US)
            if following is None or following > end:
                return end
            fire = following
            end = max(end, fire + self._duration)
        return None


def _aware(moment: datetime) -> datetime:
    # Naive times in a config or on the command line mean UTC. Arithmetic on a zoned datetime
    # is wall-clock arithmetic, so every computation here runs on UTC values.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@lru_cache(maxsize=1024)
def window(suppression: Suppression) -> Window:
    """The (cached) :class:`Window` of ``suppression``."""
    return Window(suppression)


def window_ends_at(suppression: Suppression, now: datetime) -> datetime | None:
    """When the window of ``suppression`` in force at ``now`` ends (None: not in force/open)."""
    return window(suppression).ends_at(now)
