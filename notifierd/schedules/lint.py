"""Lint findings of schedules that depend on the date (so only hints): coverage gaps in the next
two weeks, overlapping overrides, overrides wholly in the past."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from notifierd.config.model import Schedule, Snapshot
from notifierd.config.problems import Problem, Severity
from notifierd.config.yamlpos import Document, parse
from notifierd.schedules.oncall import shifts, zone_of

COVERAGE_AHEAD = timedelta(days=14)
_SHOWN_GAPS = 3


def lint_schedules(root: str | Path, snapshot: Snapshot, now: datetime) -> list[Problem]:
    """Every date-dependent finding of ``snapshot``'s schedules as of ``now``; the schedule
    files under ``root`` are read again only for positions."""
    out: list[Problem] = []
    for sid in sorted(snapshot.schedules):
        schedule = snapshot.schedules[sid]
        try:
            doc = parse((Path(root) / schedule.path).read_text(encoding="utf-8-sig"))
        except OSError:
            doc = parse("")
        out += _findings(schedule, doc, now)
    return out


def _findings(schedule: Schedule, doc: Document, now: datetime) -> list[Problem]:
    out: list[Problem] = []

    def add(path: tuple[object, ...], message: str, code: str) -> None:
        mark = doc.value_mark(path)
        out.append(Problem(schedule.path, mark.line, mark.column, message, Severity.INFO, code))

    gaps = [s for s in shifts(schedule, now, now + COVERAGE_AHEAD) if s.person is None]
    if gaps:
        shown = ", ".join(
            f"{_local(g.start, schedule)} → {_local(g.end, schedule)}" for g in gaps[:_SHOWN_GAPS]
        )
        if len(gaps) > _SHOWN_GAPS:
            shown += f" and {len(gaps) - _SHOWN_GAPS} more"
        then = (
            f"the fallback ({', '.join(schedule.fallback)}) is paged then"
            if schedule.fallback
            else "deliveries then reach no one: add a layer or a fallback"
        )
        add(
            ("layers",),
            f"schedule '{schedule.id}' has nobody on call in the next 14 days at {shown}; {then}",
            "coverage-gap",
        )
    for i, override in enumerate(schedule.overrides):
        if override.end <= now:
            add(
                ("overrides", i, "until"),
                f"override for {override.person} ended at {_local(override.end, schedule)} and "
                "changes nothing any more; remove it",
                "past-override",
            )
        for j, earlier in enumerate(schedule.overrides[:i]):
            if earlier.start < override.end and override.start < earlier.end:
                line = doc.value_mark(("overrides", j)).line
                add(
                    ("overrides", i),
                    f"override for {override.person} overlaps the override for {earlier.person} "
                    f"(line {line}); where they overlap this later one wins",
                    "overlapping-overrides",
                )
    return out


def _local(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(zone_of(schedule.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")
