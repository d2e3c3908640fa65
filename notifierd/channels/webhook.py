"""Generic webhook: a JSON POST signed with HMAC-SHA256, errors classified by HTTP status.

The signature lets a receiver check that the body came from us and is recent::

    X-Notifierd-Timestamp: <unix seconds>
    X-Notifierd-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body bytes>")>

A receiver recomputes the HMAC over the timestamp header, a dot and the exact body bytes,
compares in constant time, and refuses timestamps too far from its clock (replays).
``X-Notifierd-Delivery`` carries the delivery id, which stays the same across retries, so a
receiver can drop duplicates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from notifierd import __version__, jsonenc
from notifierd.channels.base import (
    ChannelConfigError,
    Clock,
    Delivered,
    Failed,
    Outbound,
    ResolvedSettings,
    decode_attachments,
    http_status_is_transient,
    parse_retry_after,
    resolve_settings,
    truncate,
    utc_iso,
)
from notifierd.channels.http11 import (
    FRAMING_HEADERS,
    Http11Client,
    HttpError,
    HttpTimeout,
    Target,
)
from notifierd.channels.redirects import is_redirect, redirect_note
from notifierd.config.channel_settings import SETTINGS_SPECS
from notifierd.config.model import Channel

if TYPE_CHECKING:  # a type only: the webhook posts with its own client (http11)
    import aiohttp

DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"notifierd/{__version__}"
# Headers the sender owns: configured headers cannot replace them.
OWN_HEADERS = ("content-type", "x-notifierd-timestamp", "x-notifierd-signature")

# Its secret-holding settings, as validation reads them: redacted from every reason.
SETTINGS = SETTINGS_SPECS["webhook"]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Notifierd-Signature value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def payload(out: Outbound, sent_at: float) -> dict[str, Any]:
    """The JSON document a webhook receives."""
    request = out.request
    return {
        "request_id": request.id,
        "delivery_id": out.delivery_id,
        "channel": out.channel.name,
        "subject": out.message.subject,
        "text": out.message.text,
        "template": getattr(out.message, "template", None),
        "request": {
            "kind": request.kind,
            "action": request.action,
            "title": request.title,
            "message": request.message,
            "severity": request.severity,
            "priority": request.priority,
            "source": request.source,
            "protocol": request.protocol,
            "tags": list(request.tags),
            "labels": dict(request.labels),
            "metadata": dict(request.metadata),
            "dedup_key": request.dedup_key,
            "template": str(request.template) if request.template else None,
            # Names and links only: the content is not repeated in every webhook body.
            "attachments": [
                {k: a.get(k) for k in ("filename", "content_type", "url") if a.get(k)}
                for a in request.attachments
            ],
        },
        "sent_at": utc_iso(sent_at),
    }


class WebhookSender:
    """POSTs JSON to one URL over its own pool of keep-alive connections (see http11)."""

    def __init__(
        self,
        channel: Channel,
        settings: ResolvedSettings,
        *,
        http: aiohttp.ClientSession | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.channel = channel
        self._settings = settings
        url = settings.require("url")
        try:
            self._target = Target.parse(url)
        except ValueError as exc:
            raise ChannelConfigError(f"channel {channel.name!r}: url: {exc}") from None
        # Reasons name the host only: a webhook path often carries a token.
        self._where = f"{self._target.scheme}://{urlsplit(url).netloc.rpartition('@')[2]}"
        self._secret = settings.text("secret")
        self._headers = {str(k): str(v) for k, v in (settings.get("headers") or {}).items()}
        for name, value in self._headers.items():
            if any(c in name + value for c in "\r\n") or ":" in name or not _latin1(name + value):
                raise ChannelConfigError(
                    f"channel {channel.name!r}: header {name!r} must be one line of Latin-1 "
                    "text with no colon in its name"
                )
            if name.lower() in FRAMING_HEADERS:
                raise ChannelConfigError(
                    f"channel {channel.name!r}: header {name!r} cannot be configured; "
                    "notifierd frames every request itself"
                )
        for name in [n for n in self._headers if n.lower() == "host"]:
            # A configured Host (a receiver addressed by IP behind a virtual host) replaces ours.
            self._target = dataclasses.replace(self._target, host_header=self._headers.pop(name))
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._clock = clock
        # What every POST of this sender shares, built once: the configured headers it keeps,
        # and the HMAC keyed with its secret (each signature copies it: ~0.5 µs less than keying
        # a new one per POST).
        fixed = {k: v for k, v in self._headers.items() if k.lower() not in OWN_HEADERS}
        fixed.setdefault("User-Agent", USER_AGENT)
        fixed["Content-Type"] = "application/json"
        self._fixed_headers = fixed
        self._mac = (
            hmac.new(self._secret.encode(), digestmod=hashlib.sha256) if self._secret else None
        )
        # ``http`` (a shared aiohttp session) is accepted like every sender's, but not used.
        self._client = Http11Client()

    def request_for(self, out: Outbound) -> tuple[bytes, dict[str, str]]:
        """The exact body bytes and headers of one POST."""
        now = self._clock()
        body = jsonenc.dumps(payload(out, now))
        timestamp = str(int(now))
        headers = self._fixed_headers.copy()
        headers["X-Notifierd-Timestamp"] = timestamp
        headers["X-Notifierd-Delivery"] = out.delivery_id
        if self._mac is not None:  # sign(self._secret, timestamp, body), from the keyed HMAC
            mac = self._mac.copy()
            mac.update(timestamp.encode() + b"." + body)
            headers["X-Notifierd-Signature"] = f"sha256={mac.hexdigest()}"
        return body, headers

    async def send(self, out: Outbound) -> Delivered | Failed:
        try:
            decode_attachments(out.request)  # refuse bad base64 the same way on every channel
        except ValueError as exc:
            return Failed(str(exc), transient=False)
        body, headers = self.request_for(out)
        try:
            # Redirects are never followed: one would turn the POST into a GET without a body.
            response = await self._client.post(self._target, body, headers, self._timeout)
        except HttpTimeout:
            return Failed(f"webhook {self._where} timed out after {self._timeout:g}s", True)
        except HttpError as exc:
            reason = f"webhook {self._where} unreachable: {exc}"
            return Failed(self._settings.redact(reason), transient=True)
        status = response.status
        # Only the start of the body goes into a reason.
        text = response.body[:4096].decode("utf-8", "replace")
        response_headers = response.headers
        if 200 <= status < 300:
            provider_id = response_headers.get("x-request-id")
            return Delivered(provider_id=provider_id, detail={"status": status})
        reason = f"webhook {self._where} answered HTTP {status}"
        if is_redirect(status):
            reason += redirect_note(response_headers.get("location"))
        if text.strip():
            reason += f": {truncate(self._settings.redact(text), 200)}"  # redact first: a cut can split a secret
        transient = http_status_is_transient(status)
        retry_after = (
            parse_retry_after(response_headers.get("retry-after"), self._clock)
            if transient
            else None
        )
        return Failed(self._settings.redact(reason), transient, retry_after, status)

    async def close(self) -> None:
        await self._client.close()


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def create_sender(
    channel: Channel,
    environ: Mapping[str, str],
    *,
    http: aiohttp.ClientSession | None = None,
    clock: Clock = time.time,
) -> WebhookSender:
    return WebhookSender(
        channel, resolve_settings(channel, environ, SETTINGS), http=http, clock=clock
    )
