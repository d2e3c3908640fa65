"""Slack: chat.postMessage through slack_sdk's AsyncWebClient, errors classified here."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, cast

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from notifierd.channels.base import (
    Attachment,
    ChannelConfigError,
    Clock,
    Delivered,
    Failed,
    HttpSession,
    Outbound,
    ResolvedSettings,
    decode_attachments,
    parse_retry_after,
    resolve_settings,
    secret_source,
    truncate,
)
from notifierd.channels.redirects import NoRedirectSession, is_redirect, redirect_note
from notifierd.config.channel_settings import SETTINGS_SPECS
from notifierd.config.model import Channel
from notifierd.templates.markup import is_link_target, link_target, slack_escape
from notifierd.templates.message import RenderedMessage

log = logging.getLogger(__name__)

# Its secret-holding settings, as validation reads them: redacted from every reason.
SETTINGS = SETTINGS_SPECS["slack"]
DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT = 10.0
TEXT_WITH_BLOCKS_MAX = 3000  # ``text`` beside blocks is only the notification preview
TEXT_MAX = 39000  # Slack answers msg_too_long past 40,000 characters
MAX_BLOCKS = 50

# Error codes worth trying again; any other ``ok: false`` means the request itself is wrong.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
HINTS = {
    "channel_not_found": "check the channel name or use its ID; a direct message needs the "
    "user's ID (@U0123ABCD), not a display name",
    "not_in_channel": "invite the bot to the channel (/invite @bot)",
    "is_archived": "the channel is archived",
    "missing_scope": "the token lacks a scope (chat:write; files:write for attachments; "
    "chat:write.customize for username/icon_emoji)",
    "invalid_blocks": "the template's Slack blocks are not valid Block Kit",
    "invalid_blocks_format": "the template's Slack blocks are not a JSON array",
    "msg_too_long": "the message text is too long",
}
# A user ID (U…/W…): Slack delivers a post to it as a direct message from the bot.
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def message_ref(channel_id: str, ts: str) -> str:
    """The reference of a posted message: updating it, or replying in its thread, needs both
    the conversation's id and the message's ts."""
    return f"{channel_id}|{ts}"


def parse_message_ref(ref: str) -> tuple[str, str] | None:
    """(channel id, ts) of a reference made by ``message_ref``; None for any other text."""
    channel_id, bar, ts = ref.partition("|")
    return (channel_id, ts) if bar and channel_id and ts else None


def settled_blocks(message: RenderedMessage, note: str) -> list[dict[str, Any]]:
    """An alert's message once acknowledged or resolved: its blocks without the buttons, and
    ``note`` (who did it) below them."""
    blocks = [b for b in (message.slack_blocks or []) if b.get("type") != "actions"]
    # The note names whoever acted (an actor a client sent, a free-text note): plain text.
    note_text = {"type": "mrkdwn", "text": f":white_check_mark: {slack_escape(note)}"}
    blocks.append({"type": "context", "elements": [note_text]})
    return blocks


def slack_channel(recipient: str) -> str:
    """The ``channel`` argument for a recipient.

    ``#name`` and channel IDs go as they are (Slack accepts names). ``@U0123ABCD`` becomes
    ``U0123ABCD``: posting to a user ID delivers a direct message from the bot. Any other
    ``@name`` is passed through unchanged; Slack no longer resolves display names and answers
    channel_not_found, which is reported with a hint to use the user's ID.
    """
    if recipient.startswith("@") and USER_ID.match(recipient[1:]):
        return recipient[1:]
    return recipient


class SlackSender:
    """Posts to Slack channels and users with one bot token."""

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
        self._token = settings.require("token")
        self._token_source = secret_source(channel, "token")
        self._api_url = settings.text("api_url", DEFAULT_API_URL) or DEFAULT_API_URL
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._username = settings.text("username")
        self._icon_emoji = settings.text("icon_emoji")
        self._clock = clock
        self._http = HttpSession(http)
        self._client: AsyncWebClient | None = None

    def _web(self) -> AsyncWebClient:
        # Created on first use: an aiohttp session must be made inside the running loop.
        if self._client is None:
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._api_url,
                timeout=int(max(1, self._timeout)),
                # The SDK follows redirects with the token; through this session it cannot.
                session=cast(aiohttp.ClientSession, NoRedirectSession(self._http)),
                # Our retry stage owns retries; the SDK's would hide 429s and connection errors.
                retry_handlers=[],
            )
        return self._client

    async def _call(self, coro: Any) -> Any:
        # slack_sdk ignores ``timeout`` when it is given a session, so bound the call here.
        return await asyncio.wait_for(coro, self._timeout)

    async def send(self, out: Outbound) -> Delivered | Failed:
        if not out.recipient:
            return Failed("a Slack delivery needs a recipient (#channel or @user)", False)
        try:
            attachments = decode_attachments(out.request)
        except ValueError as exc:
            return Failed(str(exc), transient=False)
        args = post_message_args(out, attachments)
        replied = parse_message_ref(out.reply_to) if out.reply_to else None
        thread_ts = replied[1] if replied else None
        if thread_ts:
            args["thread_ts"] = thread_ts
        if self._username:
            args["username"] = self._username
        if self._icon_emoji:
            args["icon_emoji"] = self._icon_emoji
        try:
            response = await self._call(self._web().chat_postMessage(**args))
        except Exception as exc:  # every failure becomes a classified Failed
            return self._classify(exc, "chat.postMessage")
        channel_id = response.get("channel")
        ts = response.get("ts")
        detail: dict[str, Any] = {"channel": channel_id, "ts": ts}
        uploads = [a for a in attachments if a.content is not None]
        if uploads and channel_id and ts:
            # The message is out; an upload problem must not make the retry stage post it again.
            problem = await self._upload(uploads, channel_id, thread_ts or ts)
            detail["files"] = [a.filename for a in uploads]
            if problem is not None:
                detail["attachment_error"] = problem.reason
                log.warning(
                    "slack attachments not uploaded",
                    extra={"request_id": out.request.id, "reason": problem.reason},
                )
        ref = message_ref(channel_id, ts) if channel_id and ts else ts
        return Delivered(provider_id=ref, detail=detail)

    async def _upload(
        self, uploads: list[Attachment], channel_id: str, thread_ts: str
    ) -> Failed | None:
        """Upload files (files.upload v2 flow) as replies in the message's thread."""
        files = [
            {"content": a.content, "filename": a.filename, "title": a.filename} for a in uploads
        ]
        try:
            await self._call(
                self._web().files_upload_v2(
                    file_uploads=files, channel=channel_id, thread_ts=thread_ts
                )
            )
        except Exception as exc:
            return self._classify(exc, "files_upload_v2")
        return None

    async def update(self, ref: str, message: RenderedMessage, note: str) -> Delivered | Failed:
        """Rewrite a posted message in place (chat.update) as settled: see MessageUpdater."""
        place = parse_message_ref(ref)
        if place is None:
            return Failed(f"Slack chat.update: {ref!r} is not a posted message", transient=False)
        channel_id, ts = place
        args: dict[str, Any] = {
            "channel": channel_id,
            "ts": ts,
            "text": f"{slack_escape(message.subject)} — {slack_escape(note)}",
            "blocks": settled_blocks(message, note),
        }
        try:
            response = await self._call(self._web().chat_update(**args))
        except Exception as exc:
            return self._classify(exc, "chat.update")
        return Delivered(
            provider_id=message_ref(
                response.get("channel") or channel_id, response.get("ts") or ts
            ),
            detail={"channel": response.get("channel"), "ts": response.get("ts")},
        )

    def _classify(self, exc: BaseException, method: str) -> Failed:
        if isinstance(exc, SlackApiError):
            return self._classify_api_error(exc, method)
        if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return Failed(f"Slack {method} timed out after {self._timeout:g}s", transient=True)
        if isinstance(exc, aiohttp.ClientError | OSError):
            reason = f"Slack {method}: cannot reach {self._api_url}: {type(exc).__name__}: {exc}"
            return Failed(self._settings.redact(reason), transient=True)
        if isinstance(exc, SlackRequestError):  # the SDK refused our arguments
            return Failed(self._settings.redact(f"Slack {method}: {exc}"), transient=False)
        if isinstance(exc, SlackClientError):
            return Failed(self._settings.redact(f"Slack {method}: {exc}"), transient=True)
        # Unknown library errors: retry a bounded number of times rather than lose the message.
        reason = f"Slack {method}: unexpected {type(exc).__name__}: {exc}"
        return Failed(self._settings.redact(reason), transient=True)

    def _classify_api_error(self, exc: SlackApiError, method: str) -> Failed:
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        data = getattr(response, "data", None)
        headers: Mapping[str, Any] = getattr(response, "headers", None) or {}
        error = data.get("error") if isinstance(data, dict) else None
        retry_after = parse_retry_after(_header(headers, "Retry-After"), self._clock)
        if error:
            reason = f"Slack {method}: {error}"
            if error in TOKEN_ERRORS:
                reason += f" (the token from {self._token_source} was refused)"
            elif error in HINTS:
                reason += f" ({HINTS[error]})"
            messages = (data.get("response_metadata") or {}).get("messages") if data else None
            if messages:
                reason += ": " + "; ".join(str(m) for m in messages[:3])
        else:
            body = data if isinstance(data, str) else ""
            reason = f"Slack {method}: HTTP {status}" + (
                f": {truncate(self._settings.redact(body), 200)}" if body else ""
            )
            if is_redirect(status):
                reason += redirect_note(_header(headers, "Location"))
        transient = status == 429 or status >= 500 or error in TRANSIENT_ERRORS
        if error == "ratelimited":
            status = 429  # whatever the HTTP status said, this is Slack's rate limit
        return Failed(
            self._settings.redact(reason),
            transient=transient,
            retry_after=retry_after if transient else None,
            status_code=status or None,
        )

    async def close(self) -> None:
        await self._http.close()
        self._client = None


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return None if value is None else str(value)


def attachment_line(attachment: Attachment) -> str:
    """A link attachment as a mrkdwn list item: a link when its URL is one, else text."""
    name = slack_escape(attachment.filename)
    url = attachment.url or ""
    if is_link_target(url):
        return f"• <{slack_escape(link_target(url))}|{name}>"
    return f"• {name}: {slack_escape(url)}"


def post_message_args(out: Outbound, attachments: list[Attachment]) -> dict[str, Any]:
    """chat.postMessage's arguments (without thread and identity) for ``out``.

    ``text`` is mrkdwn and the subject and text are plain, so they are escaped: a title of
    ``<!channel>`` must not ping a channel. The template's blocks were escaped as rendered.
    """
    subject = out.message.subject or ""
    text = out.message.text or ""
    blocks = getattr(out.message, "slack_blocks", None)
    links = [a for a in attachments if a.content is None and a.url]
    fallback = "\n".join(slack_escape(part) for part in (subject, text) if part.strip())
    if links:
        listed = "\n".join(attachment_line(a) for a in links)
        fallback = f"{fallback}\n{listed}"
        if blocks is not None and len(blocks) < MAX_BLOCKS:
            section = {"type": "mrkdwn", "text": truncate_keep_lines(listed, 3000)}
            blocks = [*blocks, {"type": "section", "text": section}]
    mention = out.message.mention
    if mention:  # the person a schedule paged: named in the notification and atop the blocks
        tag = f"<@{mention}>"
        fallback = f"{tag} {fallback}"
        if blocks is not None and len(blocks) < MAX_BLOCKS:
            paged = {"type": "mrkdwn", "text": f"{tag} you are on call"}
            blocks = [{"type": "context", "elements": [paged]}, *blocks]
    limit = TEXT_WITH_BLOCKS_MAX if blocks else TEXT_MAX
    args: dict[str, Any] = {
        "channel": slack_channel(out.recipient or ""),
        "text": truncate_keep_lines(fallback or " ", limit),
        "metadata": {
            "event_type": "notifierd_delivery",
            "event_payload": {"delivery_id": out.delivery_id, "request_id": out.request.id},
        },
    }
    if blocks:
        args["blocks"] = blocks
    return args


def truncate_keep_lines(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def create_sender(
    channel: Channel,
    environ: Mapping[str, str],
    *,
    http: aiohttp.ClientSession | None = None,
    clock: Clock = time.time,
) -> SlackSender:
    """A SlackSender; ChannelConfigError when the token's variable is not set."""
    settings = resolve_settings(channel, environ, SETTINGS)
    if settings.text("token") is None:
        raise ChannelConfigError(f"channel {channel.name!r} has no token")
    return SlackSender(channel, settings, http=http, clock=clock)
