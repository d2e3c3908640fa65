"""Who a schedule delivery pages: the person on call at an instant, their contact on the
delivery's channel by their preferences, else the schedule's fallback — or nobody, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from notifierd.config.model import SLACK_USER_ID, Channel, Person, Schedule
from notifierd.config.recipients import fits
from notifierd.schedules.oncall import describe, on_call

FALLBACK = "fallback"
NOBODY = "nobody on call"  # resolved_via of a delivery that paged no one


@dataclass(frozen=True, slots=True)
class Paged:
    """Where a schedule delivery goes: ``address`` on its channel; ``person`` None when the
    schedule's fallback took it; ``via`` what decided (``layer weekly``, ``override (…)``,
    ``fallback``)."""

    schedule: str
    person: str | None
    address: str
    via: str

    @property
    def slack_id(self) -> str | None:
        """The Slack member id the address names (``@U…``/``U…``), for a mention."""
        if self.person is None:
            return None
        bare = self.address.removeprefix("@")
        return bare if SLACK_USER_ID.match(bare) else None


@dataclass(frozen=True, slots=True)
class Unpaged:
    """Nobody reachable: recorded with ``reason``, never dropped silently."""

    schedule: str
    person: str | None  # on call but unreachable on the channel; None when nobody is on call
    reason: str


def page(
    schedule: Schedule,
    people: Mapping[str, Person],
    channel: Channel,
    severity: str | None,
    priority: str | None,
    at: datetime,
) -> Paged | Unpaged:
    """Resolve ``schedule`` for one delivery on ``channel`` at ``at``.

    One delivery reaches one address: the first of the person's contacts of the channel's type
    that applies to this severity and priority (contacts are in order of preference), so the
    delivery id, keyed on the schedule, names exactly one send. With nobody on call, or a person
    whose preferences reach no one on this channel, the first fallback recipient that fits it.
    """
    shift = on_call(schedule, at)
    person = people.get(shift.person) if shift.person else None
    if person is not None:
        for contact in person.contacts:
            if contact.type == channel.type and contact.applies(severity, priority):
                return Paged(schedule.id, person.name, contact.address, describe(shift.source))
    backup = _fallback(schedule, people, channel, severity, priority)
    if backup is not None:
        return Paged(schedule.id, None, backup, FALLBACK)
    if shift.person is None:
        reason = f"nobody on call for schedule {schedule.id}"
    else:
        reason = (
            f"nobody on call for schedule {schedule.id} reachable on {channel.name}: "
            f"{shift.person}'s preferences pick no {channel.type} contact for this request"
        )
    if schedule.fallback:
        reason += f"; no fallback recipient fits {channel.name}"
    return Unpaged(schedule.id, shift.person, reason)


def _fallback(
    schedule: Schedule,
    people: Mapping[str, Person],
    channel: Channel,
    severity: str | None,
    priority: str | None,
) -> str | None:
    for recipient in schedule.fallback:
        person = people.get(recipient)
        if person is not None:
            for contact in person.contacts:
                if contact.type == channel.type and contact.applies(severity, priority):
                    return contact.address
            continue
        address = fits(channel, recipient)
        if address is not None:
            return address
    return None
