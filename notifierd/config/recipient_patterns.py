"""``allow_recipients`` syntax: which addresses a pattern admits, per channel type.

- ``*`` alone admits any address (an explicit opt-out, on any type that has recipients).
- e-mail: ``*@company.com`` (any address at that domain), ``*@*.company.com`` (at any of its
  subdomains, not the domain itself), or an exact address ``ops@company.com``. Domains compare
  case-insensitively, local parts exactly; no other ``*``.
- slack: ``#name`` (channel names) and ``@name`` (user names), compared case-insensitively, or
  a Slack id such as ``C0123ABCD`` or ``U024BE7LH``, which also admits the id written after
  ``#``/``@``. ``*`` matches any run of name characters (of capitals and digits in an id):
  ``#team-*``, ``@*``, ``C0*``, ``U*``.
- sms: an E.164 number, exactly (``+15550100``), or a prefix ending in ``*`` (``+4930*``).
- teams, pagerduty, webhook: none; they deliver to their configured target, never to a
  request's recipients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from notifierd.config.model import TARGETED_TYPES

ANY = "*"

_EMAIL = re.compile(
    r"(?P<local>\*|[^@\s*]+)@(?P<sub>\*\.)?(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)
_SLACK_NAME = re.compile(r"[#@][^\s#@]+")
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9*]*")
_E164_EXACT = re.compile(r"\+[1-9][0-9]{1,14}")
_E164_PREFIX = re.compile(r"\+[1-9][0-9]{0,13}\*")

_HINTS = {
    "email": "use *@company.com, *@*.company.com or an exact address such as ops@company.com",
    "slack": (
        "use #channel-name or @user-name (with * as a wildcard, e.g. #team-*), or a Slack id "
        "such as C0123ABCD, U* or C0*"
    ),
    "sms": "use an E.164 number such as +15550100, or a prefix ending in * such as +4930*",
}


class PatternError(ValueError):
    """A pattern that is not valid for its channel type; the message says why."""


@dataclass(frozen=True, slots=True)
class RecipientPattern:
    """One parsed ``allow_recipients`` entry of a channel of ``channel_type``."""

    text: str
    channel_type: str
    regex: re.Pattern[str]

    def admits(self, address: str) -> bool:
        """Whether ``address`` (a recipient as it reaches the channel, prefix removed) fits."""
        if self.channel_type == "email" and "@" in address:
            local, _, domain = address.rpartition("@")
            address = f"{local}@{domain.lower()}"
        return self.regex.fullmatch(address) is not None


def _glob(text: str, star: str) -> str:
    """``text`` with each ``*`` standing for ``star`` and everything else literal."""
    return star.join(re.escape(part) for part in text.split("*"))


def _email_regex(text: str) -> str:
    m = _EMAIL.fullmatch(text)
    if m is None:
        raise PatternError(f"invalid e-mail pattern '{text}': {_HINTS['email']}")
    local = r"[^@\s]+" if m["local"] == ANY else re.escape(m["local"])
    domain = re.escape(m["domain"].lower())
    # A subdomain wildcard needs at least one label before the domain.
    return f"{local}@" + (rf"[^@\s]+\.{domain}" if m["sub"] else domain)


def _slack_regex(text: str) -> str:
    if _SLACK_NAME.fullmatch(text):
        return "(?i:" + _glob(text, r"[^\s#@]*") + ")"
    if _SLACK_ID.fullmatch(text):
        # An id pattern matches ids only: a name that happens to start with a capital does not.
        return "[#@]?" + _glob(text, "[A-Z0-9]*")
    raise PatternError(f"invalid Slack pattern '{text}': {_HINTS['slack']}")


def _sms_regex(text: str) -> str:
    if _E164_PREFIX.fullmatch(text):
        return re.escape(text[:-1]) + "[0-9]*"
    if _E164_EXACT.fullmatch(text):
        return re.escape(text)
    raise PatternError(f"invalid SMS pattern '{text}': {_HINTS['sms']}")


@lru_cache(maxsize=1024)
def parse_pattern(channel_type: str, text: str) -> RecipientPattern:
    """The pattern ``text`` on a channel of ``channel_type``; PatternError says why not."""
    if channel_type in TARGETED_TYPES:
        raise PatternError(
            f"{channel_type} channels deliver to their configured target and never to a "
            "request's recipients, so allow_recipients has no meaning here: remove it"
        )
    if text == ANY:
        regex = ".*"
    elif channel_type == "email":
        regex = _email_regex(text)
    elif channel_type == "slack":
        regex = _slack_regex(text)
    elif channel_type == "sms":
        regex = _sms_regex(text)
    else:
        raise PatternError(f"unknown channel type '{channel_type}'")
    return RecipientPattern(text, channel_type, re.compile(regex, re.DOTALL))
