"""Microsoft Teams: an Adaptive Card POSTed to an incoming webhook (connector or Workflows).

A classic connector answers 200 with the text ``1``; a Workflows ("Post to a channel when a
webhook request is received") URL answers 202. Classic connectors also answer 200 when Teams
itself refused the message (rate limit, bad card, removed channel), with the real status only in
the body: ``Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP
error 429 ...``; that status decides the classification here, not the 200.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from notifierd import __version__, jsonenc
from notifierd.channels.base import (
    ChannelConfigError,
    Clock,
    Delivered,
    Failed,
    HttpSession,
    Outbound,
    ResolvedSettings,
    decode_attachments,
    http_status_is_transient,
    parse_retry_after,
    resolve_settings,
    truncate,
)
from notifierd.channels.redirects import is_redirect, redirect_note
from notifierd.config.channel_settings import SETTINGS_SPECS
from notifierd.config.model import Channel
from notifierd.templates.markup import is_link_target

DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"notifierd/{__version__}"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams refuses messages over 28 KB; refusing them here gives a clearer reason than a 413.
MESSAGE_MAX_BYTES = 28 * 1024
DELIVERY_FAILED = "Webhook message delivery failed"
EMBEDDED_STATUS = re.compile(r"returned HTTP error (\d{3})")
HINTS = {
    400: "Teams refused the message; check the template's teams card",
    403: "the webhook is not allowed to post (disabled connector or tenant policy)",
    404: "the webhook no longer exists; create a new one and update the URL",
    410: "the webhook no longer exists; create a new one and update the URL",
    413: "the card is too large (Teams accepts at most 28 KB)",
}

# Its secret-holding settings, as validation reads them: redacted from every reason.
SETTINGS = SETTINGS_SPECS["teams"]


def envelope(card: Mapping[str, Any]) -> dict[str, Any]:
    """The message an incoming webhook takes: one Adaptive Card attachment."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def card_for(out: Outbound) -> dict[str, Any]:
    """The template's teams card (or the fallback card), with link attachments as buttons."""
    card = out.message.for_channel("teams")["card"]
    # A button opens only a link a reader can follow (http, https, mailto).
    links = [
        a for a in out.request.attachments if is_link_target(a.get("url")) and not a.get("content")
    ]
    if not links:
        return card
    card = copy.deepcopy(card)  # the rendered card may be shared with other deliveries
    actions = card.setdefault("actions", [])
    if isinstance(actions, list):
        actions += [
            {"type": "Action.OpenUrl", "title": str(a.get("filename") or a["url"]), "url": a["url"]}
            for a in links
        ]
    return card


class TeamsSender:
    """POSTs Adaptive Cards to one webhook URL (a secret: reasons name its host only)."""

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
        self._url = settings.require("webhook_url")
        parts = urlsplit(self._url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelConfigError(
                f"channel {channel.name!r}: webhook_url must be an http(s) URL"
            )
        self._where = parts.hostname
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._clock = clock
        self._http = HttpSession(http)

    async def send(self, out: Outbound) -> Delivered | Failed:
        try:
            decode_attachments(out.request)  # refuse bad base64 the same way on every channel
        except ValueError as exc:
            return Failed(str(exc), transient=False)
        body = jsonenc.dumps(envelope(card_for(out)))
        if len(body) > MESSAGE_MAX_BYTES:
            return Failed(
                f"the Teams card is {len(body) / 1024:.1f} KB; Teams accepts at most "
                f"{MESSAGE_MAX_BYTES // 1024} KB",
                transient=False,
            )
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        try:
            async with self._http.get().post(
                self._url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                allow_redirects=False,  # a redirect would turn the POST into a GET
            ) as response:
                status = response.status
                text = (await response.content.read(4096)).decode("utf-8", "replace")
                response_headers = response.headers
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return Failed(f"Teams webhook {self._where} timed out after {self._timeout:g}s", True)
        except (aiohttp.ClientError, OSError) as exc:
            reason = f"Teams webhook {self._where} unreachable: {type(exc).__name__}: {exc}"
            return Failed(self._settings.redact(reason), transient=True)
        # Redacted before any cut: a cut could leave part of the URL that redaction won't find.
        text = self._settings.redact(text)
        retry_after = parse_retry_after(response_headers.get("Retry-After"), self._clock)
        if 200 <= status < 300:
            if DELIVERY_FAILED in text:
                return self._embedded_failure(text, retry_after)
            provider_id = response_headers.get("x-ms-workflow-run-id") or response_headers.get(
                "request-id"
            )
            return Delivered(provider_id=provider_id, detail={"status": status})
        reason = f"Teams webhook {self._where} answered HTTP {status}"
        if is_redirect(status):
            reason += redirect_note(response_headers.get("Location"))
        if text.strip():
            reason += f": {truncate(text, 200)}"
        if status in HINTS:
            reason += f" ({HINTS[status]})"
        transient = http_status_is_transient(status)
        return Failed(
            self._settings.redact(reason), transient, retry_after if transient else None, status
        )

    def _embedded_failure(self, text: str, retry_after: float | None) -> Failed:
        """A 200 whose body says Teams refused the message: classify by the status inside."""
        reason = f"Teams webhook {self._where}: {truncate(text, 200)}"
        found = EMBEDDED_STATUS.search(text)
        if found is None:
            # "Error contacting Microsoft Teams endpoint": the connector could not reach Teams.
            return Failed(self._settings.redact(reason), transient=True, retry_after=retry_after)
        status = int(found.group(1))
        if status in HINTS:
            reason += f" ({HINTS[status]})"
        transient = http_status_is_transient(status)
        return Failed(
            self._settings.redact(reason), transient, retry_after if transient else None, status
        )

    async def close(self) -> None:
        await self._http.close()


def create_sender(
    channel: Channel,
    environ: Mapping[str, str],
    *,
    http: aiohttp.ClientSession | None = None,
    clock: Clock = time.time,
) -> TeamsSender:
    """A TeamsSender; ChannelConfigError when the webhook URL's variable is not set."""
    return TeamsSender(
        channel, resolve_settings(channel, environ, SETTINGS), http=http, clock=clock
    )
