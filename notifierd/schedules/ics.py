"""On-call shifts as an iCalendar file (RFC 5545): UTC times, stable UIDs, CRLF, folded lines."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from notifierd.config.model import Schedule
from notifierd.schedules.oncall import Shift, describe

PRODID = "-//notifierd//on-call schedules//EN"
_LINE_OCTETS = 75  # RFC 5545 §3.1: lines longer than this are folded


@dataclass(frozen=True, slots=True)
class CalendarShift:
    """A shift of one schedule, as one calendar event."""

    schedule: Schedule
    shift: Shift


def calendar(name: str, events: Iterable[CalendarShift], stamp: datetime) -> str:
    """The calendar text; ``stamp`` is every event's DTSTAMP (when the export was made).

    Gaps (nobody on call) are no events. An event's UID depends on the schedule, the person
    and the shift's start only, so a calendar app updates a shift that moved its end instead of
    showing it twice.
    """
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for event in events:
        shift = event.shift
        if shift.person is None:
            continue
        schedule = event.schedule
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_uid(schedule, shift)}",
            f"DTSTAMP:{_utc(stamp)}",
            f"DTSTART:{_utc(shift.start)}",
            f"DTEND:{_utc(shift.end)}",
            f"SUMMARY:{_text(f'On call: {shift.person} ({schedule.name})')}",
            f"DESCRIPTION:{_text(_description(schedule, shift))}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{_fold(line)}\r\n" for line in lines)


def _description(schedule: Schedule, shift: Shift) -> str:
    handle = f" (@{schedule.handle})" if schedule.handle else ""
    return f"{shift.person} is on call for {schedule.name}{handle}: {describe(shift.source)}"


def _uid(schedule: Schedule, shift: Shift) -> str:
    key = f"{schedule.id}\n{shift.person}\n{_utc(shift.start)}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@notifierd"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets, never inside a UTF-8 character; continuation lines start with a space."""
    if len(line.encode()) <= _LINE_OCTETS:
        return line
    parts: list[str] = []
    current, size, limit = "", 0, _LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, _LINE_OCTETS - 1  # the leading space counts
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
