"""``notifierd oncall``: who is on call now or at a time, the next handoffs, one person's shifts,
and the same as an iCalendar file."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import IO

import click

from notifierd.cli import common
from notifierd.cli.args import Moment
from notifierd.cli.runtime import RUNTIME_OPTION, read_runtime
from notifierd.cli.tables import TABLE_FORMAT, print_table
from notifierd.config.model import Schedule, Snapshot
from notifierd.config.schema_errors import did_you_mean
from notifierd.schedules import listing
from notifierd.schedules.ics import CalendarShift, calendar
from notifierd.schedules.listing import iso
from notifierd.schedules.oncall import describe, zone_of
from notifierd.schedules.runtime import with_overrides


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
@RUNTIME_OPTION
def oncall(
    schedule: str | None,
    config_dir: str,
    at: datetime | None,
    ahead: str | None,
    person: str | None,
    fmt: str,
    ics_file: IO[str] | None,
    with_runtime: bool,
) -> None:
    """Who is on call: for SCHEDULE (an id, a handle or @handle) or every schedule.

    \b
      notifierd oncall                         # who is on call now, everywhere
      notifierd oncall on-call-primary --at 2026-12-24T12:00Z
      notifierd oncall primary --next 7d       # the next week's handoffs
      notifierd oncall --person alice          # alice's shifts in the next 28 days
      notifierd oncall primary --ics primary.ics

    The run-time overrides in Postgres (those not ended) apply when $POSTGRES_URL is set and
    answers; a note on stderr says when it did not. --no-runtime: the schedules alone.
    """
    now = at or datetime.now(UTC)
    span = _parse_ahead(ahead)
    snapshot = common.load_or_exit(config_dir)
    runtime = read_runtime(datetime.now(UTC), with_runtime)
    if not runtime.read and with_runtime and os.environ.get("POSTGRES_URL"):
        click.echo(f"note: run-time overrides {runtime.note}", err=True)
    snapshot = replace(
        snapshot, schedules=with_overrides(snapshot.schedules, runtime.runtime.overrides)
    )
    chosen = _select(snapshot, schedule)
    if person is not None and person not in snapshot.people:
        raise click.BadParameter(
            f"unknown person {person!r}{did_you_mean(person, snapshot.people)}",
            param_hint="--person",
        )
    looking_ahead = span is not None or person is not None or ics_file is not None
    if not looking_ahead:
        rows = listing.in_force(chosen, now)
    else:
        rows = listing.ahead(chosen, now, span or listing.DEFAULT_AHEAD, person)
    if ics_file is not None:
        name = person or (chosen[0].name if len(chosen) == 1 else "on-call")
        ics_file.write(calendar(name, rows, now))
        return
    if fmt == "json":
        common.print_json(listing.document(rows, now, looking_ahead))
    else:
        _print_table(rows, now, looking_ahead)


def _select(snapshot: Snapshot, name: str | None) -> list[Schedule]:
    schedules = snapshot.schedules
    if name is None:
        if not schedules:
            common.fail("the config has no schedules (config/schedules/<id>.yaml)", 2)
        return listing.every_schedule(snapshot)
    found = listing.find_schedule(snapshot, name)
    if found is not None:
        return [found]
    bare = name.removeprefix("schedule:").removeprefix("@")
    known = [*schedules, *(s.handle for s in schedules.values() if s.handle)]
    raise click.BadParameter(
        f"no schedule {name!r}{did_you_mean(bare, known)}; schedules: "
        f"{', '.join(sorted(schedules)) or 'none'}",
        param_hint="SCHEDULE",
    )


def _parse_ahead(text: str | None) -> timedelta | None:
    if text is None:
        return None
    span = listing.parse_ahead(text)
    if isinstance(span, str):
        raise click.BadParameter(span, param_hint="--next")
    return span


def _local(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(zone_of(schedule.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _who(row: CalendarShift) -> str:
    if row.shift.person is not None:
        return row.shift.person
    fallback = ", ".join(row.schedule.fallback)
    return f"nobody (fallback: {fallback})" if fallback else "nobody"


def _print_table(rows: list[CalendarShift], now: datetime, listing: bool) -> None:
    title = f"shifts from {iso(now)}" if listing else f"on call at {iso(now)}"
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
