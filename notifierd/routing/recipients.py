"""Recipient resolution: which selected channels a recipient reaches, and at which address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from notifierd.config.model import Channel, Person
from notifierd.config.recipients import fits

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


def resolve(
    channels: Iterable[Channel], recipients: Sequence[str], declined: frozenset[str] = frozenset()
) -> list[Pair]:
    """``(channel name, address)`` pairs: for each channel, the recipients that fit it.

    A channel no recipient fits gets its ``default_recipients``; one with no defaults either
    still gets one delivery with recipient None, so the sender records "no recipient" rather
    than the request vanishing silently. Targeted channels get exactly one ``(name, None)``.
    A channel of a ``declined`` type (a person's preferences said no) gets nothing instead.
    """
    pairs: list[Pair] = []
    for channel in channels:
        if channel.targeted:
            pairs.append((channel.name, None))
            continue
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
