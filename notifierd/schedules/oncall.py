"""Who is on call: computed from a schedule's layers and overrides at an instant, never stored.

Rotations run on the schedule's wall clock (a Monday 09:00 handoff stays at 09:00 local across
daylight-saving changes); restrictions hide parts of a layer without shifting its rotation; a
later layer wins where it has someone; overrides win over every layer (a later one over an
earlier one where they overlap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from math import floor
from zoneinfo import ZoneInfo

from notifierd.config.model import Layer, Override, Restriction, Schedule
from notifierd.config.wallclock import to_instant, wall_clock
from notifierd.schedules.runtime import RuntimeOverride

Source = Layer | Override  # what decided who is on call

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
# on_call() looks this far either side for where the shift in force begins and ends.
REACH = timedelta(days=366)
_MAX_STEPS = 2000
_TICK = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Shift:
    """``person`` is on call from ``start`` until ``end`` (UTC), as ``source`` decided;
    ``person`` None (and ``source`` None) is a gap: nobody is on call."""

    person: str | None
    start: datetime
    end: datetime
    source: Source | None

    def same_decision(self, other: Shift) -> bool:
        return self.person == other.person and self.source is other.source


def describe(source: Source | None) -> str:
    """How a person reads what decided: ``layer weekly``, ``override (holiday swap)``."""
    if source is None:
        return "nobody"
    if isinstance(source, Layer):
        return f"layer {source.name}"
    if isinstance(source, RuntimeOverride):
        return source.describe()
    return f"override ({source.reason})" if source.reason else "override"


@lru_cache(maxsize=64)
def zone_of(schedule_zone: str) -> ZoneInfo:
    return ZoneInfo(schedule_zone)


# Handoffs and window edges repeat across calls (every decision in one week meets the same
# handoff): caching the conversion keeps a decision at a few microseconds.
_instant = lru_cache(maxsize=1 << 16)(to_instant)


def on_call(schedule: Schedule, at: datetime) -> Shift:
    """The shift in force at ``at`` (aware): who, decided by what, from when until when (the
    bounds are looked for at most :data:`REACH` away)."""
    zone = zone_of(schedule.timezone)
    here = _decide(schedule, zone, at)
    start, end = here.start, here.end
    floor_, ceiling = at - REACH, at + REACH
    steps = 0
    while start > floor_ and steps < _MAX_STEPS:
        before = _decide(schedule, zone, start - _TICK)
        if not before.same_decision(here):
            break
        start, steps = before.start, steps + 1
    while end < ceiling and steps < 2 * _MAX_STEPS:
        after = _decide(schedule, zone, end)
        if not after.same_decision(here):
            break
        end, steps = after.end, steps + 1
    return Shift(here.person, max(start, floor_), min(end, ceiling), here.source)


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The shifts covering ``[start, end)`` in order, contiguous and non-overlapping, cut at
    both ends; gaps are shifts with ``person`` None."""
    zone = zone_of(schedule.timezone)
    out: list[Shift] = []
    t = start
    while t < end:
        piece = _decide(schedule, zone, t)
        until = min(piece.end, end)
        if out and out[-1].same_decision(piece):
            out[-1] = Shift(piece.person, out[-1].start, until, piece.source)
        else:
            out.append(Shift(piece.person, t, until, piece.source))
        t = until
    return out


def _decide(schedule: Schedule, zone: ZoneInfo, at: datetime) -> Shift:
    """Who is on call at ``at``, with an interval around it in which that cannot change (not
    necessarily the whole shift: callers join neighbouring pieces)."""
    low, high = EARLIEST, LATEST
    winner: Override | None = None
    for override in schedule.overrides:
        if override.start <= at < override.end:
            winner = override  # a later override wins where two overlap
        for edge in (override.start, override.end):
            if edge <= at:
                low = max(low, edge)
            else:
                high = min(high, edge)
    if winner is not None:
        return Shift(winner.person, low, high, winner)
    for layer in reversed(schedule.layers):
        person, layer_low, layer_high = _layer_at(layer, zone, at)
        low, high = max(low, layer_low), min(high, layer_high)
        if person is not None:
            return Shift(person, low, high, layer)
    return Shift(None, low, high, None)


def _handoff(layer: Layer, zone: ZoneInfo, turn: int) -> datetime:
    return _instant(layer.start + timedelta(seconds=turn * layer.rotation), zone)


def _layer_at(layer: Layer, zone: ZoneInfo, at: datetime) -> tuple[str | None, datetime, datetime]:
    first = _handoff(layer, zone, 0)
    if at < first:
        return None, EARLIEST, first  # the layer has nobody before its start
    # The wall clock gives the turn; the instants correct it where clocks went back or jumped.
    elapsed = (wall_clock(at, zone) - layer.start).total_seconds()
    turn = max(0, floor(elapsed / layer.rotation))
    low = _handoff(layer, zone, turn)
    while low > at:
        turn -= 1
        low = _handoff(layer, zone, turn)
    high = _handoff(layer, zone, turn + 1)
    while high <= at:
        turn += 1
        low, high = high, _handoff(layer, zone, turn + 1)
    person: str | None = layer.members[turn % len(layer.members)]
    if layer.restrict:
        inside, window_low, window_high = _windows_at(layer.restrict, zone, at)
        low, high = max(low, window_low), min(high, window_high)
        if not inside:
            person = None
    return person, low, high


def _windows_at(
    restrict: tuple[Restriction, ...], zone: ZoneInfo, at: datetime
) -> tuple[bool, datetime, datetime]:
    """Whether ``at`` is inside a window, and the interval around it where that holds.

    Windows last at most a day and belong to the day they start, so the windows of the local
    day before to the day after are all that can touch the three days around ``at``.
    """
    day = wall_clock(at, zone).date()
    low = _instant(datetime.combine(day - _DAY, datetime.min.time()), zone)
    high = _instant(datetime.combine(day + 2 * _DAY, datetime.min.time()), zone)
    inside = False
    for offset in (-2, -1, 0, 1):
        for start, end in _windows_of_day(restrict, zone, day + offset * _DAY):
            if start <= at < end:
                inside = True
            for edge in (start, end):
                if edge <= at:
                    low = max(low, edge)
                else:
                    high = min(high, edge)
    # Only a zone whose clocks jump across whole days could leave ``at`` outside its days;
    # shifts() must still move forward.
    return inside, min(low, at), high if high > at else at + _SECOND


@lru_cache(maxsize=1 << 14)
def _windows_of_day(
    restrict: tuple[Restriction, ...], zone: ZoneInfo, day: date
) -> tuple[tuple[datetime, datetime], ...]:
    out = []
    for window in restrict:
        if day.weekday() not in window.days:
            continue
        start = datetime.combine(day, window.start)
        end = datetime.combine(day + _DAY if window.overnight else day, window.end)
        out.append((_instant(start, zone), _instant(end, zone)))
    return tuple(out)
