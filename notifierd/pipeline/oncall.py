"""Schedule deliveries at their first attempt: who a ``schedule:<id>`` recipient pages now, and
the record of a delivery that paged no one."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from notifierd import metrics
from notifierd.config.model import Channel, Snapshot
from notifierd.config.recipients import split_recipient
from notifierd.request import Request
from notifierd.schedules.paging import NOBODY, Paged, Unpaged, page
from notifierd.store.records import DeliveryRecord

__all__ = [
    "NOBODY",
    "mentioning",
    "paged_words",
    "resolve_schedule",
    "schedule_of",
    "unpaged",
]
from notifierd.templates.message import RenderedMessage

log = logging.getLogger("notifierd.pipeline")


def schedule_of(snapshot: Snapshot, recipient: str | None) -> str | None:
    """The schedule a planned recipient names (routing writes them ``schedule:<id>``)."""
    if not recipient or not snapshot.schedules:
        return None
    prefix, sid = split_recipient(recipient)
    return sid if prefix == "schedule" and sid in snapshot.schedules else None


def resolve_schedule(
    snapshot: Snapshot, recipient: str | None, channel: Channel, request: Request, now: datetime
) -> Paged | Unpaged | None:
    """Who ``recipient`` pages on ``channel`` at ``now``; None when it names no schedule. A
    delivery that pages no one is counted and logged here (it is recorded dead by the caller)."""
    sid = schedule_of(snapshot, recipient)
    if sid is None:
        return None
    paged = page(
        snapshot.schedules[sid], snapshot.people, channel, request.severity, request.priority, now
    )
    if isinstance(paged, Unpaged):
        metrics.ONCALL_UNRESOLVED.labels(sid).inc()
        log.error(
            "%s", paged.reason, extra={"request_id": request.id, "event": "oncall_unresolved"}
        )
    return paged


def mentioning(message: RenderedMessage, paged: Paged | None) -> RenderedMessage:
    """The message with the paged person's Slack id to mention, when it has one."""
    slack_id = paged.slack_id if paged is not None else None
    return message if slack_id is None else replace(message, mention=slack_id)


def unpaged(processed_deliveries: list[DeliveryRecord]) -> str | None:
    """Why a notification paged no one on a schedule (the first such reason), else None: an
    escalation step with such a delivery fires its next level at once."""
    for row in processed_deliveries:
        if row.resolved_via == NOBODY:
            return row.last_error
    return None


def paged_words(rows: list[DeliveryRecord]) -> str:
    """For an escalation's timeline: who its schedule recipients paged, ``; paged alice
    (schedule primary, layer weekly) on chat``; empty when it named no schedule."""
    words = []
    for row in rows:
        if row.resolved_via is None:
            continue
        sid = row.recipient.removeprefix("schedule:")
        if row.resolved_via == NOBODY:
            words.append(f"nobody (schedule {sid})")
        else:
            who = row.resolved_person or f"fallback {row.resolved_address}"
            words.append(f"{who} (schedule {sid}, {row.resolved_via}) on {row.channel}")
    return f"; paged {', '.join(dict.fromkeys(words))}" if words else ""
