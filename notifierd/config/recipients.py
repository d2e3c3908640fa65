"""Recipient syntax: the forms a recipient is written in, and which channel each one fits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from notifierd.config.model import Channel, Schedule

# `prefix:address` where prefix is a channel name or type. The prefix must start with a letter
# or digit, so bare `#c`, `@u` and `+49…` can never be mistaken for explicit recipients.
_EXPLICIT = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.\-]*):(.+)", re.DOTALL)
_SLACK_CHANNEL = re.compile(r"#[^\s#@]+")
_SLACK_USER = re.compile(r"@[^\s@]+")
# Deliberately loose: the mail server is the authority; this only tells e-mail from the rest.
# A colon never appears in the local part, so `name:a@b.c` stays explicit.
_EMAIL = re.compile(r"[^@\s:#][^@\s:]*@[^@\s.]+(?:\.[^@\s.]+)+")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


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


def unfit_recipients(channels: Iterable[Channel], recipients: Iterable[str]) -> list[str]:
    """The recipients that reach none of ``channels`` (for validation to report)."""
    channels = list(channels)
    return [r for r in recipients if all(fits(c, r) is None for c in channels)]


def schedule_recipients(schedules: Mapping[str, Schedule]) -> dict[str, str]:
    """Every way a recipient names a schedule -> its id: ``schedule:<id>``, and its handle
    written exactly, bare or with ``@``. Nothing fuzzy: any other ``@x`` stays a Slack user."""
    out: dict[str, str] = {}
    for sid, schedule in schedules.items():
        out[f"schedule:{sid}"] = sid
        if schedule.handle:
            out[schedule.handle] = out[f"@{schedule.handle}"] = sid
    return out
