"""Wall-clock time in a zone to instants, the same way for every schedule time (handoffs,
restriction windows, overrides written without an offset)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_SECOND = timedelta(seconds=1)


def to_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the clocks of ``zone`` read ``local`` (naive).

    A time read twice (the hour repeated when clocks go back) is its first reading. A time
    never read (skipped when clocks go forward) is the instant of the jump: later wall-clock
    times never map to earlier instants, so shifts built from handoffs cannot overlap.
    """
    instant = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    # In a gap: fold=0 reads it with the offset before the jump (too late), fold=1 with the
    # one after (too early); the jump lies between, found to the second.
    early = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(early, instant), max(early, instant)
    while high - low > _SECOND:
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= local:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) if high.microsecond else high


def wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """What the clocks of ``zone`` read at ``instant`` (aware), as a naive datetime."""
    return instant.astimezone(zone).replace(tzinfo=None)
