"""Who is on call as data: the schedules a name means, the shifts in force or ahead, and the JSON
document ``notifierd oncall --format json`` prints and ``GET /api/v1/oncall`` serves."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from notifierd.config.model import Layer, Schedule, Snapshot
from notifierd.config.values import parse_duration
from notifierd.schedules.ics import CalendarShift
from notifierd.schedules.oncall import Shift, on_call, shifts
from notifierd.schedules.runtime import RuntimeOverride

# How far a person's shifts and a calendar look ahead when no look-ahead is given.
DEFAULT_AHEAD = timedelta(days=28)
# The longest look-ahead anyone may ask for (the CLI's --next, the API's next=).
MAX_AHEAD = timedelta(days=366)


class ShiftJson(TypedDict):
    schedule: str
    name: str
    handle: str | None
    timezone: str
    person: str | None
    start: str
    end: str
    source: dict[str, str | None] | None
    fallback: list[str]


def parse_ahead(text: str) -> timedelta | str:
    """A look-ahead such as ``7d``; a string says what is wrong with it."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        return str(exc)
    if seconds <= 0 or seconds > MAX_AHEAD.total_seconds():
        return f"{text!r}: look ahead between 1s and {MAX_AHEAD.days}d"
    return timedelta(seconds=seconds)


def parse_moment(text: str) -> datetime | str:
    """An ISO-8601 time (``Z`` or an offset; naive means UTC) as aware UTC; a string says what
    is wrong with it."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        return f"{text!r} is not an ISO-8601 time; e.g. 2026-12-01T02:30:00Z"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return f"{text!r} is outside the years 1 to 9999 in UTC"


def find_schedule(snapshot: Snapshot, name: str) -> Schedule | None:
    """The schedule ``name`` means: its id, its handle, ``@handle`` or ``schedule:<id>``."""
    bare = name.removeprefix("schedule:").removeprefix("@")
    if bare in snapshot.schedules:
        return snapshot.schedules[bare]
    return next((s for s in snapshot.schedules.values() if s.handle == bare), None)


def every_schedule(snapshot: Snapshot) -> list[Schedule]:
    return [snapshot.schedules[sid] for sid in sorted(snapshot.schedules)]


def in_force(chosen: Iterable[Schedule], now: datetime) -> list[CalendarShift]:
    """The shift in force at ``now`` in each schedule."""
    return [CalendarShift(s, on_call(s, now)) for s in chosen]


def now_and_next(
    chosen: Iterable[Schedule], now: datetime
) -> list[tuple[CalendarShift, CalendarShift]]:
    """Each schedule's shift in force at ``now`` and the one after it."""
    return [(row, in_force([row.schedule], row.shift.end)[0]) for row in in_force(chosen, now)]


def ahead(
    chosen: Iterable[Schedule], now: datetime, span: timedelta, person: str | None = None
) -> list[CalendarShift]:
    """The shifts from ``now`` for ``span`` (only ``person``'s when given), each whole: the one
    in force starts where it really started, the last ends where it really ends."""
    rows: list[CalendarShift] = []
    for s in chosen:
        pieces = shifts(s, now, now + span)
        if pieces:
            pieces[0] = Shift(
                pieces[0].person, on_call(s, now).start, pieces[0].end, pieces[0].source
            )
            last = pieces[-1]
            end = on_call(s, last.end - timedelta(microseconds=1)).end
            pieces[-1] = Shift(last.person, last.start, end, last.source)
        rows += [CalendarShift(s, p) for p in pieces if person is None or p.person == person]
    if person is not None:
        rows.sort(key=lambda r: (r.shift.start, r.schedule.id))
    return rows


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shift_json(row: CalendarShift) -> ShiftJson:
    s, shift = row.schedule, row.shift
    source: dict[str, str | None] | None = None
    if isinstance(shift.source, Layer):
        source = {"kind": "layer", "layer": shift.source.name}
    elif isinstance(shift.source, RuntimeOverride):
        # Added at run time (not in the repository): which one, by whom, why.
        source = {
            "kind": "runtime_override",
            "id": str(shift.source.id),
            "by": shift.source.created_by,
            "reason": shift.source.reason,
        }
    elif shift.source is not None:
        source = {"kind": "override", "reason": shift.source.reason}
    return {
        "schedule": s.id,
        "name": s.name,
        "handle": s.handle,
        "timezone": s.timezone,
        "person": shift.person,
        "start": iso(shift.start),
        "end": iso(shift.end),
        "source": source,
        "fallback": list(s.fallback) if shift.person is None else [],
    }


def document(rows: Iterable[CalendarShift], now: datetime, listing: bool) -> dict[str, object]:
    """``{"at": ..., "on_call": [...]}``, or ``"shifts"`` for a listing (a look-ahead or one
    person's shifts): the one JSON shape of who is on call."""
    return {"at": iso(now), "shifts" if listing else "on_call": [shift_json(r) for r in rows]}
