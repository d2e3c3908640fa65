"""Who a config change puts on call instead: the periods ahead where a schedule's person differs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from notifierd.config.model import Schedule, Snapshot
from notifierd.schedules.listing import iso
from notifierd.schedules.oncall import Shift, shifts, zone_of

# How far ahead `diff` compares who is on call.
HORIZON = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class OnCallChange:
    """From ``start`` until ``end`` (UTC, cut at the compared window) ``schedule`` had ``old``
    on call and now has ``new`` (None: nobody, its fallback applies)."""

    schedule: str
    timezone: str
    start: datetime
    end: datetime
    old: str | None
    new: str | None

    def __str__(self) -> str:
        return (
            f"{self.schedule}, {self._local(self.start)} → {self._local(self.end)}: "
            f"{self.old or 'nobody'} → {self.new or 'nobody'}"
        )

    def _local(self, moment: datetime) -> str:
        # The schedule's wall clock, the way its authors wrote the handoffs.
        local = moment.astimezone(zone_of(self.timezone))
        return f"{local:%b} {local.day} {local:%H:%M}"

    def as_json(self) -> dict[str, str | None]:
        return {
            "schedule": self.schedule,
            "timezone": self.timezone,
            "from": iso(self.start),
            "until": iso(self.end),
            "old": self.old,
            "new": self.new,
        }


def oncall_changes(
    old: Snapshot, new: Snapshot, start: datetime, horizon: timedelta = HORIZON
) -> list[OnCallChange]:
    """Every period in ``[start, start + horizon)`` where a schedule on both sides has another
    person on call (or nobody). A schedule added or removed is the structural diff's to say."""
    end = start + horizon
    changes: list[OnCallChange] = []
    for sid in sorted(set(old.schedules) & set(new.schedules)):
        before, after = old.schedules[sid], new.schedules[sid]
        if before == after:
            continue  # the same rules give the same people: nothing to compute
        changes += _differences(after, shifts(before, start, end), shifts(after, start, end))
    return changes


def _differences(schedule: Schedule, old: list[Shift], new: list[Shift]) -> list[OnCallChange]:
    """Walk both timelines (each contiguous over the same window) edge by edge, joining
    neighbouring pieces with the same change."""
    out: list[OnCallChange] = []
    i = j = 0
    while i < len(old) and j < len(new):
        a, b = old[i], new[j]
        piece_start, piece_end = max(a.start, b.start), min(a.end, b.end)
        if a.person != b.person:
            last = out[-1] if out else None
            if last and last.end == piece_start and (last.old, last.new) == (a.person, b.person):
                out[-1] = OnCallChange(
                    last.schedule, last.timezone, last.start, piece_end, last.old, last.new
                )
            else:
                out.append(
                    OnCallChange(
                        schedule.id, schedule.timezone, piece_start, piece_end, a.person, b.person
                    )
                )
        if a.end == piece_end:
            i += 1
        if b.end == piece_end:
            j += 1
    return out
