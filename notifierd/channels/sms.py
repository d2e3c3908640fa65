"""SMS: Twilio's Messages API through the twilio library's async client, errors classified here.

The library builds the request (URL, form fields, basic auth) and parses answers and errors; the
HTTP goes through a small ``AsyncHttpClient`` of ours over the shared aiohttp session, because
the library's own client opens a session per client, retries on its own when asked to, and drops
the response headers (Retry-After) on the way to the exception.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

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
)
from notifierd.channels.redirects import is_redirect, redirect_note
from notifierd.config.channel_settings import SETTINGS_SPECS
from notifierd.config.model import Channel
from notifierd.templates.message import SMS_MAX

# Its secret-holding settings, as validation reads them: redacted from every reason.
SETTINGS = SETTINGS_SPECS["sms"]
DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT = 10.0
# The same shape the router uses to recognise an SMS recipient; Twilio decides the rest (21211).
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Twilio error codes worth a word of advice (https://www.twilio.com/docs/api/errors/<code>).
HINTS = {
    20003: "the account SID or auth token was refused",
    20404: "no such account; check account_sid",
    21211: "the 'To' number is not a valid phone number",
    21212: "the 'From' number is not valid",
    21408: "SMS to this region is not enabled (Messaging Geo Permissions in the Twilio console)",
    21606: "the 'From' number is not an SMS-capable number of this account",
    21610: "the recipient has unsubscribed (replied STOP)",
    21612: "Twilio cannot route this message between these two numbers",
    21614: "the 'To' number is not a mobile number",
    21617: "the message body is longer than 1600 characters",
}
TRANSIENT_CODES = frozenset({20429, 20500, 20503})
_STRIP = "Unable to create record: "

log = logging.getLogger(__name__)

# Headers of the response being handled, per task: the library's exceptions do not carry them.
_response_headers: ContextVar[Mapping[str, str] | None] = ContextVar(
    "twilio_response_headers", default=None
)


class AiohttpTwilioClient(AsyncHttpClient):
    """The twilio library's async HTTP client, over one aiohttp session and without retries."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        super().__init__(log, is_async=True, timeout=timeout)
        self.session = session

    async def request(
        self,
        method: str,
        uri: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        headers = dict(headers or {})
        if auth:
            # Built by hand: aiohttp.BasicAuth is deprecated in aiohttp 3.14, and
            # encode_basic_auth does not exist before it.
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {credentials}"
        async with self.session.request(
            method.upper(),
            uri,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
            allow_redirects=allow_redirects,
        ) as response:
            text = await response.text()
            _response_headers.set(response.headers)
            return TwilioResponse(response.status, text, response.headers)


class SmsSender:
    """Sends one SMS per recipient with one Twilio account."""

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
        self._account_sid = settings.require("account_sid")
        self._auth_token = settings.require("auth_token")
        self._token_source = secret_source(channel, "auth_token")
        self._from = settings.text("from")
        self._service_sid = settings.text("messaging_service_sid")
        if not self._from and not self._service_sid:
            raise ChannelConfigError(
                f"channel {channel.name!r} needs a 'from' number or a 'messaging_service_sid'"
            )
        self._api_url = (settings.text("api_url", DEFAULT_API_URL) or DEFAULT_API_URL).rstrip("/")
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._clock = clock
        self._http = HttpSession(http)
        self._client: Client | None = None

    def _twilio(self) -> Client:
        # Created on first use: an aiohttp session must be made inside the running loop.
        if self._client is None:
            session = self._http.get()
            client = Client(
                self._account_sid,
                self._auth_token,
                account_sid=self._account_sid,
                http_client=AiohttpTwilioClient(session, self._timeout),
            )
            # Only api_url decides where requests go: TWILIO_EDGE / TWILIO_REGION in the
            # daemon's environment would otherwise rewrite the host.
            client.edge = None
            client.region = None
            client.api.base_url = self._api_url
            self._client = client
        return self._client

    async def send(self, out: Outbound) -> Delivered | Failed:
        to = (out.recipient or "").strip()
        if not to:
            return Failed("an SMS delivery needs a recipient (+E.164 number)", transient=False)
        if not E164.fullmatch(to):
            return Failed(
                f"SMS recipient {to!r} is not an E.164 number (such as +14155550100)",
                transient=False,
            )
        try:
            decode_attachments(out.request)  # refuse bad base64 the same way on every channel
        except ValueError as exc:
            return Failed(str(exc), transient=False)
        body = out.message.sms_text
        if len(body) > SMS_MAX:  # sms_text already fits; never let Twilio refuse a long text
            body = body[: SMS_MAX - 1].rstrip() + "…"
        sender: dict[str, Any] = {}
        if self._from:
            sender["from_"] = self._from
        if self._service_sid:
            sender["messaging_service_sid"] = self._service_sid
        _response_headers.set(None)
        try:
            # Bounded by the HTTP client's timeout, the only wait in the call. No wait_for:
            # before Python 3.12 it runs the call in another task, whose context variables
            # (the response headers) this one would not see.
            messages = self._twilio().api.account.messages
            message = await messages.create_async(to=to, body=body, **sender)
        except Exception as exc:  # every failure becomes a classified Failed
            return self._classify(exc, to)
        detail = {"status": message.status, "to": to, "segments": message.num_segments}
        return Delivered(provider_id=message.sid, detail=detail)

    def _classify(self, exc: BaseException, to: str) -> Failed:
        if isinstance(exc, TwilioRestException | TwilioServiceException):
            return self._classify_api_error(exc, to)
        if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return Failed(f"Twilio timed out after {self._timeout:g}s", transient=True)
        if isinstance(exc, aiohttp.ClientError | OSError):
            reason = f"Twilio {self._api_url} unreachable: {type(exc).__name__}: {exc}"
            return Failed(self._redact(reason), transient=True)
        if isinstance(exc, TwilioException):
            return Failed(self._redact(f"Twilio: {exc}"), transient=True)
        # Unknown library errors: retry a bounded number of times rather than lose the message.
        reason = f"Twilio: unexpected {type(exc).__name__}: {exc}"
        return Failed(self._redact(reason), transient=True)

    def _classify_api_error(
        self, exc: TwilioRestException | TwilioServiceException, to: str
    ) -> Failed:
        status = int(exc.status or 0)
        if isinstance(exc, TwilioServiceException):
            message = exc.detail or exc.title
        else:
            message = str(exc.msg or "").removeprefix(_STRIP)
        code = exc.code if isinstance(exc.code, int) else None
        reason = f"Twilio refused the SMS to {to}: HTTP {status}"
        if code and code != status:
            reason += f" error {code}"
        if message:
            reason += f": {truncate(self._redact(message), 200)}"
        hint = HINTS.get(code or 0)
        if code == 20003 or (status == 401 and hint is None):
            hint = f"the account SID or the auth token from {self._token_source} was refused"
        if hint:
            reason += f" ({hint})"
        headers = _response_headers.get() or {}
        if is_redirect(status):
            reason += redirect_note(headers.get("Location"))
        transient = http_status_is_transient(status) or code in TRANSIENT_CODES
        retry_after = None
        if transient:
            retry_after = parse_retry_after(headers.get("Retry-After"), self._clock)
        return Failed(self._redact(reason), transient, retry_after, status or None)

    def _redact(self, text: str) -> str:
        # The account SID is in every URL; not a password, but a secret setting, so left out too.
        return self._settings.redact(text)

    async def close(self) -> None:
        await self._http.close()
        self._client = None


def create_sender(
    channel: Channel,
    environ: Mapping[str, str],
    *,
    http: aiohttp.ClientSession | None = None,
    clock: Clock = time.time,
) -> SmsSender:
    """An SmsSender; ChannelConfigError when a credential's variable is not set."""
    return SmsSender(channel, resolve_settings(channel, environ, SETTINGS), http=http, clock=clock)
