"""The redactor: every form a channel's secrets can take in a provider's answer, replaced by ***.

Receivers echo what they got, and what they got is rarely the secret as written: a Basic-auth
header is base64 of ``user:password``, Twilio's is base64 of ``SID:token``, SMTP AUTH PLAIN is
base64 of ``\\0user\\0password``, a URL carries its secret percent-encoded or in its userinfo,
and a Teams webhook URL is secret in its path. One redactor per channel, built once from its
resolved settings, knows all of those forms.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

REDACTED = "***"

# A plain secret shorter than this is no secret worth the false matches; an encoded fragment
# shorter than this would match ordinary text.
MIN_SECRET = 4
MIN_FRAGMENT = 6

_PERCENT = re.compile(r"%[0-9A-F]{2}")


def base64_fragments(secret: bytes) -> set[str]:
    """The base64 text that encodes ``secret`` wherever it sits inside a longer value.

    Base64 turns 3 bytes into 4 characters, so the secret's encoding depends on its offset
    modulo 3 within whatever was encoded (``user:password``, ``\\0user\\0password``). For each
    of the three offsets, the characters whose 6 bits all come from the secret are the same
    whatever surrounds it: those runs, in the standard and the URL-safe alphabet, with no
    padding (so padded and unpadded text both contain them).
    """
    fragments: set[str] = set()
    start_bits, end_bits = 0, 8 * len(secret)
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + secret).decode("ascii").rstrip("=")
        first = -(-(8 * shift + start_bits) // 6)  # first character wholly inside the secret
        last = (8 * shift + end_bits) // 6  # one past the last such character
        fragment = encoded[first:last]
        if len(fragment) >= MIN_FRAGMENT:
            fragments.add(fragment)
            fragments.add(fragment.translate(_URLSAFE))
    return fragments


_URLSAFE = str.maketrans("+/", "-_")


def encoded_forms(secret: str) -> set[str]:
    """``secret`` as written, percent-encoded (upper- and lower-case hex, ``+`` for spaces or
    not) and base64-encoded at any offset (see ``base64_fragments``)."""
    if len(secret) < MIN_SECRET:
        return set()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    forms |= {_PERCENT.sub(lambda m: m.group(0).lower(), form) for form in forms}
    forms |= base64_fragments(secret.encode("utf-8"))
    return {form for form in forms if len(form) >= MIN_SECRET}


def url_secrets(url: str, *, whole: bool) -> set[str]:
    """The secret parts of a URL setting: its userinfo password (and ``user:password``) and the
    values of its query; with ``whole`` (a URL that is a secret, like a Teams webhook URL) also
    its path and its query as a whole, which receivers echo without the host."""
    try:
        parts = urlsplit(url.strip())
        password = parts.password
        username = parts.username
    except ValueError:
        return set()
    found: set[str] = set()
    if password:
        found.add(unquote(password))
        if username:
            found.add(f"{unquote(username)}:{unquote(password)}")
    found.update(value for _, value in parse_qsl(parts.query) if value)
    if whole:
        if parts.path.strip("/"):
            found.add(parts.path)
        if parts.query:
            found.add(parts.query)
    return {s for s in found if len(s) >= MIN_SECRET}


class Redactor:
    """Replaces every known form of a set of secrets with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            forms |= encoded_forms(secret)
        # Longest first, so a secret that contains another is replaced whole.
        self.forms: tuple[str, ...] = tuple(sorted(forms, key=lambda f: (-len(f), f)))

    def __call__(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self.forms)
