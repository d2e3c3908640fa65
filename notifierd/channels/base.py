"""The sender contract: one delivery in (Outbound), Delivered or a classified Failed out."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from notifierd.channels.redaction import REDACTED as REDACTED  # senders name it from here
from notifierd.channels.redaction import Redactor, url_secrets
from notifierd.config.channel_settings import SettingsSpec
from notifierd.config.model import Channel
from notifierd.config.values import env_names, expand_env, parse_duration
from notifierd.request import Request
from notifierd.valueclass import value_class

if TYPE_CHECKING:
    from notifierd.templates.message import RenderedMessage

Clock = Callable[[], float]  # seconds since the epoch; time.time in production


@value_class
class Outbound:
    """One delivery to make: a request's rendered message for one channel and recipient."""

    delivery_id: str
    request: Request
    channel: Channel
    recipient: str | None  # explicit prefix stripped ('#ops', 'a@b.c'); None when targeted
    message: RenderedMessage  # rendered for this channel's type
    # The reference of an earlier message of this channel that this one follows up (an alert's
    # acknowledgement): the channel alone reads it (Slack replies in that message's thread).
    reply_to: str | None = None


@value_class
class Delivered:
    """The provider accepted the message."""

    # The provider's reference to what was sent (Slack channel|ts, SMTP Message-ID, SendGrid
    # X-Message-Id, ...). Opaque outside its channel: stored, shown, and handed back to the
    # same channel as Outbound.reply_to or MessageUpdater.update's ``ref``.
    provider_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@value_class
class Failed:
    """The delivery did not happen; ``transient`` tells the retry stage whether to try again."""

    reason: str  # for people; never contains a secret
    transient: bool
    retry_after: float | None = None  # seconds the provider asked us to wait (429 Retry-After)
    status_code: int | None = None  # HTTP status or SMTP reply code, when there was one

    @property
    def rate_limited(self) -> bool:
        """The provider refused for its rate limit (HTTP 429, Slack ``ratelimited``): a wait,
        not a failed attempt."""
        return self.transient and self.status_code == 429


Outcome = Delivered | Failed


@runtime_checkable
class Sender(Protocol):
    """Delivers to one channel. ``send`` never raises for a delivery problem: it returns Failed."""

    async def send(self, out: Outbound) -> Delivered | Failed: ...

    async def close(self) -> None: ...


@runtime_checkable
class MessageUpdater(Protocol):
    """A sender that can rewrite a message it delivered: an optional capability (Slack's)."""

    async def update(self, ref: str, message: RenderedMessage, note: str) -> Delivered | Failed:
        """Rewrite the message delivered as ``ref`` (first rendered as ``message``) as settled:
        nothing left to act on, and ``note`` saying why (who acknowledged or resolved it)."""
        ...


class Senders(Protocol):
    """Where the pipeline takes the sender of a channel (the SenderPool)."""

    def get(self, channel: Channel) -> Sender: ...


class ChannelConfigError(Exception):
    """A channel's settings cannot work (e.g. a missing environment variable): permanent."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """A channel's settings with ``${ENV}`` references expanded, and the secrets they hold."""

    channel: str
    values: Mapping[str, Any]
    secrets: tuple[str, ...] = ()
    # Every form of those secrets (encoded, inside URLs): what redact() removes.
    redactor: Redactor = field(default_factory=Redactor)

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        return str(value)

    def require(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise ChannelConfigError(f"channel {self.channel!r} has no {key!r} setting")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, str):  # an env reference expands to text
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)

    def seconds(self, key: str, default: float) -> float:
        """A duration setting (``10s``, ``1m``) or a plain number of seconds."""
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, int | float):
            return float(value)
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise ChannelConfigError(f"channel {self.channel!r}: {key}: {exc}") from None

    def strings(self, key: str) -> list[str]:
        value = self.values.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return [str(v) for v in value]

    def redact(self, text: str) -> str:
        """``text`` with every form of every secret of the channel replaced by ``***``."""
        return self.redactor(text)


def resolve_settings(
    channel: Channel, environ: Mapping[str, str], spec: SettingsSpec
) -> ResolvedSettings:
    """Expand every ``${NAME}`` in the channel's settings.

    A missing variable raises ChannelConfigError naming the variable and the setting (never a
    value). Values of the settings ``spec`` calls secret are collected so reasons can be
    redacted.
    """
    secrets: list[str] = []

    def expand(value: Any, key: str, secret: bool) -> Any:
        if isinstance(value, str):
            try:
                expanded = expand_env(value, environ)
            except KeyError as exc:
                raise ChannelConfigError(
                    f"environment variable {exc.args[0]} is not set (setting {key!r} of channel "
                    f"{channel.name!r})"
                ) from None
            if secret:
                secrets.extend(environ[name] for name in env_names(value))
            return expanded
        if isinstance(value, Mapping):
            return {k: expand(v, f"{key}.{k}", secret) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [expand(v, key, secret) for v in value]
        return value

    values = {
        key: expand(value, key, spec.holds_secret(key)) for key, value in channel.settings.items()
    }
    # Secret settings written as literals (validate refuses them, but be safe) are secrets too.
    for key in spec.secrets:
        if isinstance(values.get(key), str):
            secrets.append(values[key])
    # A secret that is a URL (a Teams webhook) is secret in its parts too: receivers echo its
    # path without the host. A URL that only bears secrets keeps them in its userinfo and query.
    parts = [part for s in secrets if "://" in s for part in url_secrets(s, whole=True)]
    for key in spec.secret_bearing:
        value = values.get(key)
        if isinstance(value, str) and "://" in value:
            parts.extend(url_secrets(value, whole=False))
    unique = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))
    return ResolvedSettings(
        channel=channel.name,
        values=MappingProxyType(values),
        secrets=unique,
        redactor=Redactor((*unique, *parts)),
    )


def secret_source(channel: Channel, key: str) -> str:
    """How a reason names where a secret comes from: the variable, never its value."""
    raw = channel.settings.get(key)
    names = env_names(raw) if isinstance(raw, str) else []
    return f"${{{names[0]}}}" if names else f"setting {key!r}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret (see ``redaction``) replaced by ``***``."""
    return Redactor(secrets)(text)


# --------------------------------------------------------------------------- classification


def parse_retry_after(value: str | None, clock: Clock = time.time) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - clock())
    if seconds != seconds or seconds < 0:  # NaN or negative: not a valid delta
        return None
    return seconds


def parse_rate_limit_reset(value: str | None, clock: Clock = time.time) -> float | None:
    """Seconds until an ``X-RateLimit-Reset`` epoch timestamp (SendGrid and others)."""
    if not value:
        return None
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    return max(0.0, reset - clock())


def http_status_is_transient(status: int) -> bool:
    """408 Request Timeout, 425 Too Early, 429 Too Many Requests and every 5xx retry."""
    return status in (408, 425, 429) or status >= 500


def truncate(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_second_text: tuple[int, str] = (-1, "")


def utc_iso(timestamp: float) -> str:
    """ISO 8601 in UTC with a Z, as datetime.isoformat() writes it; the date and time part is
    formatted once per second (every webhook body carries one)."""
    global _second_text
    second = int(timestamp // 1)
    if _second_text[0] != second:
        text = datetime.fromtimestamp(second, tz=UTC).isoformat().replace("+00:00", "")
        _second_text = (second, text)
    micros = round((timestamp - second) * 1_000_000)
    if micros >= 1_000_000:  # rounding reached the next second
        return utc_iso(float(second + 1))
    return f"{_second_text[1]}.{micros:06d}Z" if micros else f"{_second_text[1]}Z"


# --------------------------------------------------------------------------- attachments


@dataclass(frozen=True, slots=True)
class Attachment:
    """A request attachment: either its decoded bytes or a link to it."""

    filename: str
    content_type: str
    content: bytes | None = None
    url: str | None = None


def decode_attachments(request: Request) -> list[Attachment]:
    """The request's attachments with base64 content decoded; bad base64 is ValueError."""
    found = []
    for item in request.attachments:
        filename = str(item.get("filename") or "attachment")
        content_type = str(item.get("content_type") or "application/octet-stream")
        content = None
        if item.get("content") is not None:
            try:
                content = base64.b64decode(str(item["content"]), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"attachment {filename!r}: content is not valid base64") from None
        url = item.get("url")
        found.append(Attachment(filename, content_type, content, str(url) if url else None))
    return found


def links_text(attachments: Iterable[Attachment]) -> str:
    """A plain-text list of the attachments that are links rather than content."""
    lines = [f"- {a.filename}: {a.url}" for a in attachments if a.content is None and a.url]
    return "Attachments:\n" + "\n".join(lines) if lines else ""


class HttpSession:
    """The aiohttp session a sender posts with: the shared one when it was given one (and it is
    open), else one of its own, made on first use inside the running loop and closed with it."""

    def __init__(self, shared: Any = None) -> None:
        self._shared = shared
        self._own: Any = None

    def get(self) -> Any:
        import aiohttp

        if self._shared is not None and not self._shared.closed:
            return self._shared
        if self._own is None or self._own.closed:
            self._own = aiohttp.ClientSession()
        return self._own

    async def close(self) -> None:
        if self._own is not None:
            await self._own.close()
            self._own = None
