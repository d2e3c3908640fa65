"""Redaction: a channel's secrets leave no reason in any form a receiver might echo them in."""

from __future__ import annotations

import base64
import contextlib
import re
from urllib.parse import quote, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from notifierd.channels.base import REDACTED, resolve_settings
from notifierd.channels.redaction import Redactor, base64_fragments
from notifierd.config.channel_settings import settings_spec
from tests.fakes import make_channel

PASSWORD = "s3cr3t-Pa55word/+?&"
TOKEN = "tw-auth-token-0123456789abcdef"
SID = "AC0123456789abcdef0123456789abcdef"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_secret_is_redacted_plain_percent_encoded_and_base64_encoded() -> None:
    redact = Redactor([PASSWORD])
    forms = [
        PASSWORD,
        quote(PASSWORD, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(PASSWORD, safe="")),
        quote_plus(PASSWORD),
        b64(PASSWORD),
        b64(PASSWORD).rstrip("="),
        b64url(PASSWORD),
        b64url(PASSWORD).rstrip("="),
    ]
    for form in forms:
        assert form not in redact(f"you sent <{form}>"), form


def test_composite_credentials_are_redacted_in_base64() -> None:
    redact = Redactor([PASSWORD, TOKEN, SID])
    composites = {
        "Basic auth": f"Basic {b64('alice:' + PASSWORD)}",
        "Twilio SID:token": f"Basic {b64(SID + ':' + TOKEN)}",
        "SMTP AUTH PLAIN": f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + PASSWORD)}",
        "SMTP AUTH LOGIN": f"{b64('alice')}\r\n{b64(PASSWORD)}",
        "URL-safe, unpadded": b64url("bob:" + PASSWORD).rstrip("="),
    }
    for name, text in composites.items():
        redacted = redact(f"echo: {text}")
        assert REDACTED in redacted, name
        for secret in (PASSWORD, TOKEN, SID):
            assert not recoverable(secret, redacted), (name, secret)


@given(prefix=st.binary(max_size=8), secret=st.binary(min_size=6, max_size=40))
def test_the_base64_of_a_secret_at_any_offset_contains_one_of_its_fragments(
    prefix: bytes, secret: bytes
) -> None:
    encoded = base64.b64encode(prefix + secret + b"tail").decode()
    assert any(fragment in encoded for fragment in base64_fragments(secret))


def test_a_teams_webhook_url_is_redacted_in_its_path_and_its_query() -> None:
    url = "https://example.webhook.office.com/webhookb2/1234abcd@5678ef/IncomingWebhook/9f8e7d/c0ffee?sig=abc123def"
    channel = make_channel("teams", "teams", webhook_url="${TEAMS_URL}")
    settings = resolve_settings(channel, {"TEAMS_URL": url}, settings_spec("teams"))

    echoed = (
        "POST /webhookb2/1234abcd@5678ef/IncomingWebhook/9f8e7d/c0ffee HTTP/1.1 query sig=abc123def"
    )
    redacted = settings.redact(echoed)
    assert "1234abcd@5678ef" not in redacted
    assert "abc123def" not in redacted
    assert quote(url, safe="") not in settings.redact(quote(url, safe=""))


def test_a_webhook_url_is_redacted_in_its_userinfo_and_its_query() -> None:
    channel = make_channel(
        "hook",
        "webhook",
        url="https://alice:${HOOK_PASSWORD}@hooks.example.com/in?token=${HOOK_TOKEN}",
    )
    settings = resolve_settings(
        channel, {"HOOK_PASSWORD": PASSWORD, "HOOK_TOKEN": TOKEN}, settings_spec("webhook")
    )
    echoed = f"Authorization: Basic {b64('alice:' + PASSWORD)}; url /in?token={quote(TOKEN)}"
    redacted = settings.redact(echoed)
    assert TOKEN not in redacted
    assert not recoverable(PASSWORD, redacted)


def test_literal_credentials_in_a_webhook_url_are_redacted() -> None:
    channel = make_channel(
        "hook", "webhook", url="https://alice:hunter2hunter2@hooks.example.com/in"
    )
    settings = resolve_settings(channel, {}, settings_spec("webhook"))

    assert "hunter2hunter2" not in settings.redact("rejected alice:hunter2hunter2")
    assert not recoverable(
        "hunter2hunter2", settings.redact(f"Basic {b64('alice:hunter2hunter2')}")
    )


def test_ordinary_text_is_left_alone() -> None:
    redact = Redactor([PASSWORD, TOKEN])
    text = "Slack chat.postMessage: channel_not_found (invite the bot to #ops)"
    assert redact(text) == text


def recoverable(secret: str, text: str) -> bool:
    """Whether 8 characters in a row of ``secret`` can be read from ``text``, as it is or by
    decoding base64 in it."""
    readable = _decode_every_run(text)
    return any(secret[i : i + 8] in readable for i in range(len(secret) - 7))


def _decode_every_run(text: str) -> str:
    """``text`` plus the decoding of every run of base64 characters in it, at every offset:
    whatever a reader could recover from what redaction left."""
    decoded = [text]
    for run in re.findall(r"[A-Za-z0-9+/_-]{4,}", text):
        for start in range(4):
            chunk = run[start:].replace("-", "+").replace("_", "/")
            chunk = chunk[: len(chunk) // 4 * 4]
            with contextlib.suppress(ValueError):
                decoded.append(base64.b64decode(chunk).decode("latin-1"))
    return "\n".join(decoded)
