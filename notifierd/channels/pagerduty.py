"""PagerDuty: Events API v2 alert events (trigger, acknowledge, resolve) over aiohttp.

Every event of one alert carries the same ``dedup_key`` (the request's, else its id), so
PagerDuty applies trigger, acknowledge and resolve to one incident. The routing key is added to
the body only at the moment of the POST: an event built with ``event_for`` never holds it.
"""

from __future__ import annotations

import json
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
    secret_source,
    truncate,
    utc_iso,
)
from notifierd.channels.redirects import is_redirect, redirect_note
from notifierd.config.channel_settings import SETTINGS_SPECS
from notifierd.config.model import Channel

DEFAULT_API_URL = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"notifierd/{__version__}"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
# A request without a severity is paged by its priority.
SEVERITY_FOR_PRIORITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
}
DEDUP_KEY_MAX = 255  # the Events API refuses longer keys
EVENT_MAX_BYTES = 512_000  # and events over 512 KB
# PagerDuty throttles with a bare 429 (no Retry-After) and suggests retrying 30 s apart.
THROTTLE_RETRY_AFTER = 30.0

# Its secret-holding settings, as validation reads them: redacted from every reason.
SETTINGS = SETTINGS_SPECS["pagerduty"]


def severity_for(severity: str | None, priority: str | None) -> str:
    """The event's ``payload.severity``: the request's severity, else one from its priority."""
    if severity in SEVERITIES:
        return str(severity)
    return SEVERITY_FOR_PRIORITY.get(priority or "", "info")


def dedup_key_for(out: Outbound) -> str:
    """The alert's dedup key, else the request id: every event of an alert shares it."""
    return (out.request.dedup_key or out.request.id)[:DEDUP_KEY_MAX]


def event_for(
    out: Outbound,
    action: str | None = None,
    dedup_key: str | None = None,
    *,
    now: float | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Events API v2 body for ``out``, without its ``routing_key``.

    ``action`` defaults to the request's (an alert's trigger/acknowledge/resolve; a notification
    triggers) and ``dedup_key`` to ``dedup_key_for(out)``: the alerts code passes both to
    acknowledge or resolve an alert whose triggering request had another id. Acknowledge and
    resolve carry only the action and the key, as the API expects. ``settings`` are the
    channel's with environment references expanded (default: as written in the config).
    """
    request = out.request
    if action is None:
        action = request.action if request.kind == "alert" and request.action else "trigger"
    if action == "update":
        # An open alert's members changed: a trigger on its dedup key, which PagerDuty adds
        # to the open incident's log without paging again.
        action = "trigger"
    if action not in ACTIONS:
        raise ValueError(f"event_action must be one of {', '.join(ACTIONS)}, not {action!r}")
    key = (dedup_key or dedup_key_for(out))[:DEDUP_KEY_MAX]
    event: dict[str, Any] = {"event_action": action, "dedup_key": key}
    if action != "trigger":
        return event
    if settings is None:
        settings = out.channel.settings
    payload: dict[str, Any] = {
        "summary": out.message.summary or request.id,
        "source": settings.get("source") or request.source or "notifierd",
        "severity": severity_for(request.severity, request.priority),
        "timestamp": utc_iso(time.time() if now is None else now),
        "custom_details": {
            "text": out.message.text,
            "labels": dict(request.labels),
            "metadata": dict(request.metadata),
            "request_id": request.id,
            "tags": list(request.tags),
        },
    }
    for name in ("component", "group", "class"):
        if settings.get(name):
            payload[name] = str(settings[name])
    event["payload"] = payload
    links = [
        {"href": str(item["url"]), "text": str(item.get("filename") or item["url"])}
        for item in request.attachments
        if item.get("url")
    ]
    if links:
        event["links"] = links
    event["client"] = "notifierd"
    return event


class PagerDutySender:
    """POSTs events to the Events API with one routing key."""

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
        self._routing_key = settings.require("routing_key")
        self._key_source = secret_source(channel, "routing_key")
        self._url = settings.text("api_url", DEFAULT_API_URL) or DEFAULT_API_URL
        parts = urlsplit(self._url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelConfigError(f"channel {channel.name!r}: api_url must be an http(s) URL")
        self._where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._clock = clock
        self._http = HttpSession(http)

    async def send(self, out: Outbound) -> Delivered | Failed:
        try:
            decode_attachments(out.request)  # refuse bad base64 the same way on every channel
            event = event_for(out, now=self._clock(), settings=self._settings.values)
        except ValueError as exc:
            return Failed(str(exc), transient=False)
        return await self.send_event(event)

    async def send_event(self, event: Mapping[str, Any]) -> Delivered | Failed:
        """POST one event built by ``event_for`` (the routing key is added here)."""
        body = _encode({**event, "routing_key": self._routing_key})
        payload = event.get("payload")
        if len(body) > EVENT_MAX_BYTES and isinstance(payload, Mapping):
            # Better a page without the details than no page: the API refuses the whole event.
            details = payload.get("custom_details") or {}
            smaller = {
                "error": "custom details removed: the event exceeded PagerDuty's 512 KB limit",
                "request_id": details.get("request_id") if isinstance(details, Mapping) else None,
            }
            event = {**event, "payload": {**payload, "custom_details": smaller}}
            body = _encode({**event, "routing_key": self._routing_key})
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
                text = (await response.content.read(16384)).decode("utf-8", "replace")
                retry_after_header = response.headers.get("Retry-After")
                location = response.headers.get("Location")
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return Failed(f"PagerDuty {self._where} timed out after {self._timeout:g}s", True)
        except (aiohttp.ClientError, OSError) as exc:
            reason = f"PagerDuty {self._where} unreachable: {type(exc).__name__}: {exc}"
            return Failed(self._settings.redact(reason), transient=True)
        # Redacted before any cut: a cut could leave part of the key that redaction won't find.
        text = self._settings.redact(text)
        answer = _json_object(text)
        action = str(event.get("event_action"))
        if 200 <= status < 300:
            key = answer.get("dedup_key") or event.get("dedup_key")
            detail = {"status": status, "event_action": action, "dedup_key": key}
            return Delivered(provider_id=str(key) if key else None, detail=detail)
        return self._failure(status, text, answer, retry_after_header, action, location)

    def _failure(
        self,
        status: int,
        text: str,
        answer: Mapping[str, Any],
        retry_after_header: str | None,
        action: str,
        location: str | None = None,
    ) -> Failed:
        reason = f"PagerDuty refused the {action} event: HTTP {status}"
        errors = answer.get("errors")
        message = answer.get("message")
        if isinstance(errors, list) and errors:
            reason += f": {message or 'Event object is invalid'}: " + "; ".join(
                str(e) for e in errors[:5]
            )
            if any("routing" in str(e).lower() for e in errors):
                reason += (
                    f" (the routing key from {self._key_source} must be the 32-character "
                    "integration key of an Events API v2 integration)"
                )
        elif message:
            reason += f": {truncate(str(message), 200)}"
        elif text.strip():
            reason += f": {truncate(text, 200)}"
        if is_redirect(status):
            reason += redirect_note(location)
        elif status in (401, 403):
            reason += f" (check the routing key from {self._key_source})"
        elif status == 404:
            reason += f" (no Events API at {self._where}; check api_url)"
        transient = http_status_is_transient(status)
        retry_after = parse_retry_after(retry_after_header, self._clock) if transient else None
        if status == 429 and retry_after is None:
            retry_after = THROTTLE_RETRY_AFTER
        return Failed(self._settings.redact(reason), transient, retry_after, status)

    async def close(self) -> None:
        await self._http.close()


def _encode(event: Mapping[str, Any]) -> bytes:
    return jsonenc.dumps(event)


def _json_object(text: str) -> Mapping[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def create_sender(
    channel: Channel,
    environ: Mapping[str, str],
    *,
    http: aiohttp.ClientSession | None = None,
    clock: Clock = time.time,
) -> PagerDutySender:
    """A PagerDutySender; ChannelConfigError when the routing key's variable is not set."""
    return PagerDutySender(
        channel, resolve_settings(channel, environ, SETTINGS), http=http, clock=clock
    )
