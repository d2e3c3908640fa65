"""Recipient resolution: which selected channels a recipient reaches, and at which address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from notifierd.config.model import Channel, Person, Schedule, Snapshot
from notifierd.config.recipients import fits, schedule_recipients

Pair = tuple[str, str | None]


def depends_on_request(recipients: Sequence[str], people: Mapping[str, Person]) -> bool:
    """Whether where ``recipients`` reach depends on a request's severity or priority."""
    return bool(people) and any(
        (person := people.get(r)) is not None and person.conditional for r in recipients
    )


def expand_people(
    recipients: Sequence[str],
    people: Mapping[str, Person],
    channel_types: Iterable[str],
    severity: str | None,
    priority: str | None,
) -> tuple[tuple[str, ...], frozenset[str]]:
    """``(recipients, declined)``: each person's name replaced by the contacts their preferences
    pick for a request of this severity and priority among ``channel_types`` (all that apply,
    or the first with ``reach: first``); ``declined`` are the channel types a listed person
    could be reached on but was not picked for, which must then not fall back to defaults."""
    if not people or not any(r in people for r in recipients):
        return tuple(recipients), frozenset()
    types = set(channel_types)
    out: list[str] = []
    offered: set[str] = set()
    picked: set[str] = set()
    for recipient in recipients:
        person = people.get(recipient)
        if person is None:
            out.append(recipient)
            continue
        offered.update(c.type for c in person.contacts if c.type in types)
        for contact in person.contacts:
            if contact.type in types and contact.applies(severity, priority):
                out.append(f"{contact.type}:{contact.address}")
                picked.add(contact.type)
                if person.reach == "first":
                    break
    return tuple(out), frozenset(offered - picked)


class ScheduleTargets:
    """The recipients that name a schedule, and the channels a schedule can reach.

    Routing plans one delivery per channel with the recipient ``schedule:<id>``; who it pages
    is decided at its first attempt (notifierd/schedules/paging.py), not here.
    """

    __slots__ = ("_names", "_people", "_reach", "_schedules")

    def __init__(self, snapshot: Snapshot) -> None:
        self._names = schedule_recipients(snapshot.schedules)
        self._schedules = snapshot.schedules
        self._people = snapshot.people
        self._reach: dict[tuple[str, str], bool] = {}

    def __bool__(self) -> bool:
        return bool(self._names)

    def target(self, recipient: str) -> str | None:
        """The schedule ``recipient`` names exactly (``schedule:<id>``, its handle, ``@handle``)."""
        return self._names.get(recipient)

    def reaches(self, schedule_id: str, channel: Channel) -> bool:
        key = (schedule_id, channel.name)
        found = self._reach.get(key)
        if found is None:
            found = self._reach[key] = could_reach(
                self._schedules[schedule_id], self._people, channel
            )
        return found


def could_reach(schedule: Schedule, people: Mapping[str, Person], channel: Channel) -> bool:
    """Whether anyone the schedule can page (its layers', overrides' and fallback's people, or a
    fallback address) has a contact on ``channel``: a delivery is planned only there."""
    if channel.targeted:
        return False
    names = {m for layer in schedule.layers for m in layer.members}
    names.update(o.person for o in schedule.overrides)
    names.update(r for r in schedule.fallback if r in people)
    for name in names:
        person = people.get(name)
        if person is not None and any(c.type == channel.type for c in person.contacts):
            return True
    return any(r not in people and fits(channel, r) is not None for r in schedule.fallback)


def resolve(
    channels: Iterable[Channel],
    recipients: Sequence[str],
    declined: frozenset[str] = frozenset(),
    schedules: ScheduleTargets | None = None,
) -> list[Pair]:
    """``(channel name, address)`` pairs: for each channel, the recipients that fit it.

    A channel no recipient fits gets its ``default_recipients``; one with no defaults either
    still gets one delivery with recipient None, so the sender records "no recipient" rather
    than the request vanishing silently. Targeted channels get exactly one ``(name, None)``.
    A channel of a ``declined`` type (a person's preferences said no) gets nothing instead.
    A recipient naming a schedule becomes ``schedule:<id>`` on each channel it can reach:
    checked before the recipient's form, since ``@on-call-primary`` also looks like Slack.
    """
    pairs: list[Pair] = []
    for channel in channels:
        if channel.targeted:
            pairs.append((channel.name, None))
            continue
        if schedules:
            addresses = []
            for r in recipients:
                sid = schedules.target(r)
                if sid is None:
                    if (a := fits(channel, r)) is not None:
                        addresses.append(a)
                elif schedules.reaches(sid, channel):
                    addresses.append(f"schedule:{sid}")
        else:
            addresses = [a for r in recipients if (a := fits(channel, r)) is not None]
        if not addresses and channel.type in declined:
            continue
        if not addresses:
            # Defaults are the channel's own, so they apply even if written in an odd form.
            addresses = [fits(channel, d) or d for d in channel.default_recipients]
        if not addresses:
            pairs.append((channel.name, None))
            continue
        seen: set[str] = set()
        for address in addresses:
            if address not in seen:
                seen.add(address)
                pairs.append((channel.name, address))
    return pairs
