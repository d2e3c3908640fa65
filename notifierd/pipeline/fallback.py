"""Fallback on dead letter: the deliveries a dead one's channel names instead (its ``fallback``).

They are rows, not sends: written in the same transaction as the dead delivery's outcome,
``retrying`` and due at once, so the retrier sends them and a crash in between loses nothing.
Their ids are those of every delivery (request, channel, recipient), so a replay or a second
death of the same delivery writes nothing new. One hop: a fallback delivery never falls back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from notifierd import metrics
from notifierd.active import Active
from notifierd.config.model import Channel
from notifierd.config.recipients import fits
from notifierd.pipeline.deliver import message_json
from notifierd.pipeline.render import Renderer
from notifierd.request import Request, TemplateRef
from notifierd.routing.recipients import expand_people, resolve
from notifierd.status import DeliveryStatus
from notifierd.store.records import DeliveryRecord

log = logging.getLogger("notifierd.fallback")

# How much of the dead delivery's error a fallback's note repeats (the dead row keeps it whole).
_NOTE_ERROR = 200


@dataclass(frozen=True, slots=True)
class Died:
    """A delivery that just died, as its fallbacks need it."""

    id: uuid.UUID
    channel: Channel  # as the active config has it: its fallback list is read there
    recipient: str  # '' for a channel that delivers to its configured target
    template: str | None  # name@version it was rendered with; None for plain title + message
    error: str | None


def fallback_deliveries(
    active: Active,
    request: Request,
    renderer: Renderer,
    died: Died,
    now: datetime,
    reached: Collection[tuple[str, str]] = (),
) -> list[DeliveryRecord]:
    """The deliveries to make instead of ``died``: for each of its channel's fallbacks, the
    request's recipients that fit that channel (and may go there), else its default recipients;
    rendered with the template ``died`` used, for the fallback channel's type. ``reached``:
    (channel, recipient) pairs the request is sent to anyway, which get no second message."""
    rows = []
    for channel, recipient in _targets(active, request, died.channel):
        if (channel.name, recipient or "") in reached:
            continue
        rows.append(_row(active, request, renderer, died, channel, recipient, now))
    for row in rows:
        metrics.FALLBACKS.labels(died.channel.name, row.channel).inc()
    if rows:
        log.warning(
            "%s died; falling back to %s",
            died.channel.name,
            ", ".join(f"{r.channel} {r.recipient}".strip() for r in rows),
            extra={"request_id": request.id, "event": "fallback"},
        )
    return rows


def _targets(active: Active, request: Request, dead: Channel) -> list[tuple[Channel, str | None]]:
    snapshot = active.snapshot
    out: list[tuple[Channel, str | None]] = []
    for name in dead.fallback:
        channel = snapshot.channels.get(name)
        if channel is None:  # validate refuses an unknown name; nothing to send it through
            continue
        # The request's own recipients were allowed for the channels it was routed to, not for
        # this one: one this channel may not reach is left out, as the router would refuse it.
        own = [
            r
            for r in request.recipients or ()
            if r in snapshot.people
            or (address := fits(channel, r)) is None
            or active.router.allowed.allows(channel, address)
        ]
        expanded, _ = expand_people(
            own, snapshot.people, {channel.type}, request.severity, request.priority
        )
        # No declined types: a person whose preferences skip this type still leaves the
        # channel's defaults, so the message is not lost with the dead delivery.
        # A schedule stays `schedule:<id>`: the retrier resolves it at the fallback's first
        # attempt, as any schedule delivery is.
        pairs = resolve([channel], expanded, schedules=active.router.schedules)
        out.extend((channel, recipient) for _, recipient in pairs)
    return out


def _row(
    active: Active,
    request: Request,
    renderer: Renderer,
    died: Died,
    channel: Channel,
    recipient: str | None,
    now: datetime,
) -> DeliveryRecord:
    if died.template is None:
        template, template_from = None, "none"
    else:  # the version the dead delivery used, whichever is newest now
        template = TemplateRef.parse(died.template)
        template_from = "request" if request.template else "route"
    rendered = renderer.render(template, template_from, channel.type)
    what = f"{died.channel.name} {died.recipient}".strip()
    error = (died.error or "")[:_NOTE_ERROR]
    note = f"fallback of {what}, which died: {error}"
    if rendered.note:
        note = f"{note}; {rendered.note}"
    row = DeliveryRecord(
        request.id,
        channel.name,
        channel.type,
        recipient or "",
        DeliveryStatus.RETRYING,
        template=rendered.template,
        note=note,
        snapshot_id=active.id,
        next_attempt_at=now,
        fallback_of=died.id,
    )
    if rendered.message is None:  # the request's own template cannot render for this type
        row.status, row.last_error, row.next_attempt_at = DeliveryStatus.DEAD, rendered.error, None
    else:
        row.rendered = message_json(rendered.message)
    return row
