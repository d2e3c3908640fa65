"""Who a request may send to: the recipients it names must be known to the config or admitted
by the channel's ``allow_recipients``; anything else refuses the whole request."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

from notifierd.config.model import CHANNEL_TYPES, Channel, Snapshot
from notifierd.config.recipient_patterns import PatternError, RecipientPattern, parse_pattern
from notifierd.config.recipients import (
    fits,
    recipient_form,
    schedule_recipients,
    split_recipient,
)

Key = tuple[str, str]  # (channel type, address as compared)


def _compared(channel_type: str, address: str) -> str:
    """E-mail domains compare case-insensitively; everything else exactly."""
    if channel_type == "email" and "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local}@{domain.lower()}"
    return address


def _key(channels: Mapping[str, Channel], recipient: str) -> Key | None:
    """Where a recipient written in the config points, whichever channel later carries it."""
    prefix, address = split_recipient(recipient)
    if prefix is None:
        kind = recipient_form(address)
    elif prefix in channels:
        kind = channels[prefix].type
    else:
        kind = prefix if prefix in CHANNEL_TYPES else None
    return None if kind is None else (kind, _compared(kind, address))


def known_recipients(snapshot: Snapshot) -> frozenset[Key]:
    """Every address the config itself names: people's contacts, the recipients of routes and
    escalation levels, and the channels' default recipients."""

    def keys() -> Iterator[Key | None]:
        for person in snapshot.people.values():
            for contact in person.contacts:
                yield contact.type, _compared(contact.type, contact.address)
        for route in snapshot.routes:
            yield from (_key(snapshot.channels, r) for r in route.recipients)
        for policy in snapshot.policies.values():
            for level in policy.levels:
                yield from (_key(snapshot.channels, r) for r in level.recipients)
        for channel in snapshot.channels.values():
            for default in channel.default_recipients:
                address = fits(channel, default) or default  # as resolve() sends it
                yield channel.type, _compared(channel.type, address)
        # Schedules (`schedule:<id>`, `@handle`, `handle`) are known by name, like people:
        # AllowedRecipients.schedules.

    return frozenset(k for k in keys() if k is not None)


def _patterns(channel: Channel) -> tuple[RecipientPattern, ...]:
    out = []
    for text in channel.allow_recipients:
        # validate refuses a bad pattern before a snapshot exists; should one slip through,
        # it admits nothing rather than everything.
        with contextlib.suppress(PatternError):
            out.append(parse_pattern(channel.type, text))
    return tuple(out)


class AllowedRecipients:
    """The recipients a request may name itself, for one snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.people = snapshot.people
        # A schedule resolves to a person of the config, so naming one is always allowed.
        self.schedules = schedule_recipients(snapshot.schedules)
        self.known = known_recipients(snapshot)
        self.patterns = {name: _patterns(c) for name, c in snapshot.channels.items()}

    def refusals(self, channels: Iterable[Channel], recipients: Sequence[str]) -> tuple[str, ...]:
        """Why each of ``recipients`` that reaches one of ``channels`` may not; empty when all may.

        A person from ``people:`` or a schedule is always allowed (their contacts are config).
        A recipient that fits none of the channels reaches no one and is not judged here.
        """
        channels = list(channels)
        reasons: list[str] = []
        for recipient in recipients:
            if recipient in self.people or recipient in self.schedules:
                continue
            for channel in channels:
                address = fits(channel, recipient)
                if address is None or self.allows(channel, address):
                    continue
                why = (
                    "allow_recipients has no pattern for it"
                    if self.patterns.get(channel.name)
                    else "the channel sets no allow_recipients"
                )
                reasons.append(
                    f"recipient '{recipient}' is not allowed on channel '{channel.name}': "
                    f"not a known recipient and {why}"
                )
        return tuple(reasons)

    def allows(self, channel: Channel, address: str) -> bool:
        """Whether ``address`` on ``channel`` is known to the config or admitted by a pattern."""
        if (channel.type, _compared(channel.type, address)) in self.known:
            return True
        return any(p.admits(address) for p in self.patterns.get(channel.name, ()))
