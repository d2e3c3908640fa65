"""An alert's page as one timeline: its events (trigger, occurrences, acknowledgements,
resolution — who and via what) and its escalation levels (who each paged by which contact, and
each delivery's status), in the order they happened or are due. Pure: from ``show_alert``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Paged:
    """Where a level's notification went: ``recipient`` through ``channel``; for a schedule,
    the ``person`` it resolved to and the ``via`` (contact kind) and ``address`` used."""

    channel: str
    recipient: str
    status: str
    person: str | None
    via: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline: an event (``level`` None) or an escalation level."""

    at: datetime
    kind: str  # the event's kind, or the step's status (fired, pending, cancelled, ...)
    actor: str | None = None
    via: str | None = None
    detail: str | None = None
    level: int | None = None
    round: int | None = None  # counted from 0, as stored; pages show round + 1
    requested_by: str | None = None
    fired_by: str | None = None
    paged: tuple[Paged, ...] = field(default=())

    @property
    def is_step(self) -> bool:
        return self.level is not None


def entries(
    alert: dict[str, Any], since: datetime | None = None, until: datetime | None = None
) -> list[Entry]:
    """The alert's events and steps, oldest first; a step stands at the time it fired, or is
    (or was) due. At the same moment an event comes first: the trigger before its level 1.
    ``since`` / ``until``: only the steps at or after / before these moments (the events are
    the page ``show_alert`` read)."""
    events = [
        (
            0,
            Entry(
                at=moment(e["at"]),
                kind=e["kind"],
                actor=e["actor"],
                via=e["via"],
                detail=e["detail"],
            ),
        )
        for e in alert["timeline"]
    ]
    steps = [
        (
            1,
            Entry(
                at=moment(s["fired_at"] or s["due_at"]),
                kind=s["status"],
                level=s["level"],
                round=s["round"],
                requested_by=s.get("requested_by"),
                fired_by=s.get("fired_by"),
                paged=tuple(
                    Paged(
                        p["channel"],
                        p["recipient"],
                        p["status"],
                        p.get("person"),
                        p.get("via"),
                        p.get("address"),
                    )
                    for p in s.get("paged") or ()
                ),
            ),
        )
        for s in alert["steps"]
    ]
    steps = [
        (kind, step)
        for kind, step in steps
        if (since is None or step.at >= since) and (until is None or step.at < until)
    ]
    ordered = sorted(events + steps, key=lambda pair: (pair[1].at, pair[0]))
    return [entry for _, entry in ordered]


def moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
