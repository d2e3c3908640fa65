"""``notifierd oncall``: who is on call now or at a time, the next handoffs, one person's shifts,
and the same as an iCalendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import click

from notifierd.cli import common
from notifierd.cli.args import Moment
from notifierd.cli.tables import TABLE_FORMAT, print_table
from notifierd.config.model import Layer, Schedule, Snapshot
from notifierd.config.schema_errors import did_you_mean
from notifierd.config.values import parse_duration
from notifierd.schedules.ics import CalendarShift, calendar
from notifierd.schedules.oncall import Shift, describe, on_call, shifts, zone_of

# How far --person and --ics look ahead when --next is not given.
DEFAULT_AHEAD = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class Row:
    schedule: Schedule
    shift: Shift


@click.command()
@click.argument("schedule", required=False)
@common.config_option()
@click.option(
    "--at", "at", type=Moment(), help="As of this ISO-8601 time (default: now; naive means UTC)."
)
@click.option(
    "--next",
    "ahead",
    metavar="DURATION",
    help="List the shifts from --at for this long (e.g. 7d), with their handoffs.",
)
@click.option("--person", help="Only this person's shifts (from --at, for --next or 28d).")
@TABLE_FORMAT
@click.option(
    "--ics",
    "ics_file",
    type=click.File("w", encoding="utf-8", lazy=True),
    metavar="FILE",
    help="Write the shifts (from --at, for --next or 28d) as an iCalendar file ('-': stdout).",
)
def oncall(
    schedule: str | None,
    config_dir: str,
    at: datetime | None,
    ahead: str | None,
    person: str | None,
    fmt: str,
    ics_file: IO[str] | None,
) -> None:
    """Who is on call: for SCHEDULE (an id, a handle or @handle) or every schedule.

    \b
      notifierd oncall                         # who is on call now, everywhere
      notifierd oncall on-call-primary --at 2026-12-24T12:00Z
      notifierd oncall primary --next 7d       # the next week's handoffs
      notifierd oncall --person alice          # alice's shifts in the next 28 days
      notifierd oncall primary --ics primary.ics
    """
    now = at or datetime.now(UTC)
    span = _parse_ahead(ahead)
    snapshot = common.load_or_exit(config_dir)
    chosen = _select(snapshot, schedule)
    if person is not None and person not in snapshot.people:
        raise click.BadParameter(
            f"unknown person {person!r}{did_you_mean(person, snapshot.people)}",
            param_hint="--person",
        )
    listing = span is not None or person is not None or ics_file is not None
    if not listing:
        rows = [Row(s, on_call(s, now)) for s in chosen]
    else:
        rows = _listing(chosen, now, span or DEFAULT_AHEAD, person)
    if ics_file is not None:
        name = person or (chosen[0].name if len(chosen) == 1 else "on-call")
        ics_file.write(calendar(name, [CalendarShift(r.schedule, r.shift) for r in rows], now))
        return
    if fmt == "json":
        common.print_json(
            {"at": _iso(now), "shifts" if listing else "on_call": [_json(r) for r in rows]}
        )
    else:
        _print_table(rows, now, listing)


def _listing(
    chosen: list[Schedule], now: datetime, span: timedelta, person: str | None
) -> list[Row]:
    rows: list[Row] = []
    for s in chosen:
        pieces = shifts(s, now, now + span)
        if pieces:
            # The shift in force began before --at: show (and export) its real start.
            pieces[0] = Shift(
                pieces[0].person, on_call(s, now).start, pieces[0].end, pieces[0].source
            )
            # ... and the last one its real end, not where the look-ahead stops.
            last = pieces[-1]
            end = on_call(s, last.end - timedelta(microseconds=1)).end
            pieces[-1] = Shift(last.person, last.start, end, last.source)
        rows += [Row(s, p) for p in pieces if person is None or p.person == person]
    if person is not None:
        rows.sort(key=lambda r: (r.shift.start, r.schedule.id))
    return rows


def _select(snapshot: Snapshot, name: str | None) -> list[Schedule]:
    schedules = snapshot.schedules
    if name is None:
        if not schedules:
            common.fail("the config has no schedules (config/schedules/<id>.yaml)", 2)
        return [schedules[sid] for sid in sorted(schedules)]
    bare = name.removeprefix("schedule:").removeprefix("@")
    if bare in schedules:
        return [schedules[bare]]
    for s in schedules.values():
        if s.handle == bare:
            return [s]
    known = [*schedules, *(s.handle for s in schedules.values() if s.handle)]
    raise click.BadParameter(
        f"no schedule {name!r}{did_you_mean(bare, known)}; schedules: "
        f"{', '.join(sorted(schedules)) or 'none'}",
        param_hint="SCHEDULE",
    )


def _parse_ahead(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--next") from None
    if seconds <= 0 or seconds > 366 * 86400:
        raise click.BadParameter(f"{text!r}: look ahead between 1s and 366d", param_hint="--next")
    return timedelta(seconds=seconds)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(zone_of(schedule.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _json(row: Row) -> dict[str, Any]:
    s, shift = row.schedule, row.shift
    source: dict[str, str | None] | None = None
    if isinstance(shift.source, Layer):
        source = {"kind": "layer", "layer": shift.source.name}
    elif shift.source is not None:
        source = {"kind": "override", "reason": shift.source.reason}
    return {
        "schedule": s.id,
        "name": s.name,
        "handle": s.handle,
        "timezone": s.timezone,
        "person": shift.person,
        "start": _iso(shift.start),
        "end": _iso(shift.end),
        "source": source,
        "fallback": list(s.fallback) if shift.person is None else [],
    }


def _who(row: Row) -> str:
    if row.shift.person is not None:
        return row.shift.person
    fallback = ", ".join(row.schedule.fallback)
    return f"nobody (fallback: {fallback})" if fallback else "nobody"


def _print_table(rows: list[Row], now: datetime, listing: bool) -> None:
    title = f"shifts from {_iso(now)}" if listing else f"on call at {_iso(now)}"
    print_table(
        title,
        ("schedule", "handle", "on call", "from", "until", "decided by"),
        [
            (
                row.schedule.id,
                f"@{row.schedule.handle}" if row.schedule.handle else None,
                _who(row),
                _local(row.shift.start, row.schedule),
                _local(row.shift.end, row.schedule),
                describe(row.shift.source),
            )
            for row in rows
        ],
    )
