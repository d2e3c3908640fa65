"""Recipient resolution: which selected channels a recipient reaches, and at which address."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from notifierd.config.model import Channel, Person

# `prefix:address` where prefix is a channel name or type. The prefix must start with a letter
# or digit, so bare `#c`, `@u` and `+49…` can never be mistaken for explicit recipients.
_EXPLICIT = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.\-]*):(.+)", re.DOTALL)
_SLACK_CHANNEL = re.compile(r"#[^\s#@]+")
_SLACK_USER = re.compile(r"@[^\s@]+")
# Deliberately loose: the mail server is the authority; this only tells e-mail from the rest.
# A colon never appears in the local part, so `name:a@b.c` stays explicit.
_EMAIL = re.compile(r"[^@\s:#][^@\s:]*@[^@\s.]+(?:\.[^@\s.]+)+")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")

Pair = tuple[str, str | None]


@lru_cache(maxsize=4096)
def split_recipient(text: str) -> tuple[str | None, str]:
    """``(prefix, address)`` for an explicit ``prefix:address``, else ``(None, text)``."""
    m = _EXPLICIT.fullmatch(text)
    if m is None:
        return None, text
    return m.group(1), m.group(2)


@lru_cache(maxsize=4096)
def recipient_form(text: str) -> str | None:
    """The channel type a bare recipient implies by its form (slack, email, sms), else None.

    ``#channel`` and ``@user`` are Slack, ``a@b.c`` is e-mail, ``+4915112345678`` is SMS.
    An explicit ``prefix:address`` is not bare: use :func:`split_recipient` first.
    """
    if _SLACK_CHANNEL.fullmatch(text) or _SLACK_USER.fullmatch(text):
        return "slack"
    if _E164.fullmatch(text):
        return "sms"
    if _EMAIL.fullmatch(text):
        return "email"
    return None


def fits(channel: Channel, recipient: str) -> str | None:
    """The address ``recipient`` reaches on ``channel`` (prefix stripped), or None.

    Targeted channels (teams, pagerduty, webhook) deliver to their configured target, so no
    recipient fits them, not even an explicit one.
    """
    if channel.targeted:
        return None
    prefix, address = split_recipient(recipient)
    if prefix is not None:
        return address if prefix == channel.name or prefix == channel.type else None
    return address if recipient_form(address) == channel.type else None


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


def unfit_recipients(channels: Iterable[Channel], recipients: Iterable[str]) -> list[str]:
    """The recipients that reach none of ``channels`` (for validation to report)."""
    channels = list(channels)
    return [r for r in recipients if all(fits(c, r) is None for c in channels)]
