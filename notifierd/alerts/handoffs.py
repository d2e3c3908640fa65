"""Handoff notices: a schedule with ``notify_handoff`` tells the incoming person their shift
started, with the alerts still open on the routes that page the schedule — once per shift, which
a Postgres key on (schedule, shift start) decides among replicas."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from notifierd.active import Active
from notifierd.config.model import Schedule, Snapshot
from notifierd.config.recipients import schedule_recipients
from notifierd.pipeline.outcome import Write
from notifierd.pipeline.processor import Processor
from notifierd.request import Request
from notifierd.schedules.oncall import Shift, on_call
from notifierd.store.alerts import AlertStore, OpenAlert

log = logging.getLogger("notifierd.escalation")

# A shift that began longer ago than this is no news: a daemon started mid-shift stays quiet,
# and one down across a handoff still tells if it is back within this time.
LOOKBACK = timedelta(minutes=15)


class HandoffNotices:
    def __init__(
        self,
        store: AlertStore,
        processor: Processor,
        write: Write,
        active: Callable[[], Active],
        clock: Callable[[], datetime],
        *,
        lookback: timedelta = LOOKBACK,
    ) -> None:
        self.store = store
        self.processor = processor
        self.write = write
        self.active = active
        self.clock = clock
        self.lookback = lookback

    async def run_once(self) -> int:
        """Tell each schedule's incoming person whose shift began within the lookback and that
        no replica has told yet; returns how many this call told."""
        active = self.active()
        snapshot = active.snapshot
        now = self.clock()
        told = 0
        for schedule in snapshot.schedules.values():
            if not schedule.notify_handoff:
                continue
            shift = on_call(schedule, now)
            if shift.person is None or now - shift.start > self.lookback:
                continue
            routes, channels = paging_routes(snapshot, schedule)
            if not channels:
                continue  # no route pages the schedule: nowhere the person expects it
            request_id = f"handoff:{schedule.id}:{shift.start.isoformat()}"
            if not await self.store.claim_handoff_notice(
                schedule.id, shift.start, shift.person, request_id
            ):
                continue
            alerts = await self.store.open_alerts_on_routes(routes)
            request = notice(request_id, schedule, shift, channels, alerts)
            processed = await self.processor.process(active, request, now, {}, lifecycle=False)
            await self.write([processed])
            log.info(
                "told %s their shift on %s started",
                shift.person,
                schedule.id,
                extra={"request_id": request_id, "event": "handoff_notice"},
            )
            told += 1
        return told


def paging_routes(snapshot: Snapshot, schedule: Schedule) -> tuple[list[str], list[str]]:
    """The routes whose recipients name ``schedule``, and their channels that reach a person
    (not pagerduty, teams or webhook: those page a service, not the incoming person)."""
    names = {f for f, sid in schedule_recipients(snapshot.schedules).items() if sid == schedule.id}
    routes = [r for r in snapshot.routes if names.intersection(r.recipients)]
    channels = [
        c
        for r in routes
        for c in r.channels
        if c in snapshot.channels and not snapshot.channels[c].targeted
    ]
    return [r.name for r in routes], list(dict.fromkeys(channels))


def notice(
    request_id: str,
    schedule: Schedule,
    shift: Shift,
    channels: Sequence[str],
    alerts: Sequence[OpenAlert],
) -> Request:
    """The notice to the incoming person: when the shift runs, and what is open."""
    name = schedule.name or schedule.id
    lines = [
        f"Your on-call shift for {name} started at {shift.start:%Y-%m-%d %H:%M} UTC "
        f"and runs until {shift.end:%Y-%m-%d %H:%M} UTC."
    ]
    if alerts:
        lines.append("Alerts still open on its routes:")
        lines += [f"• {a.title or a.id} ({a.status}, {a.id})" for a in alerts]
    else:
        lines.append("No alert is open on its routes.")
    assert shift.person is not None
    return Request.from_dict(
        {
            "id": request_id,
            "title": f"Your on-call shift for {name} started",
            "message": "\n".join(lines),
            "channels": list(channels),
            "recipients": [shift.person],
            "labels": {"schedule": schedule.id},
        }
    )
