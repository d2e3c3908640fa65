"""E-mail: SMTP through aiosmtplib or SendGrid's v3 API through the sendgrid library."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import aiohttp
import aiosmtplib
import python_http_client
from python_http_client.exceptions import HTTPError as SendGridHTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment as SGAttachment,
)
from sendgrid.helpers.mail import (
    Bcc,
    Cc,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Header,
    HtmlContent,
    Mail,
    PlainTextContent,
    ReplyTo,
    Subject,
    To,
)

from notifierd.channels.base import (
    Attachment,
    ChannelConfigError,
    Clock,
    Delivered,
    Failed,
    Outbound,
    ResolvedSettings,
    decode_attachments,
    http_status_is_transient,
    links_text,
    parse_rate_limit_reset,
    parse_retry_after,
    resolve_settings,
    secret_source,
    truncate,
)
from notifierd.channels.redirects import is_redirect, redirect_note
from notifierd.config.channel_settings import SETTINGS_SPECS
from notifierd.config.model import Channel

DEFAULT_SENDGRID_URL = "https://api.sendgrid.com"
DEFAULT_TIMEOUT = 30.0

# Its secret-holding settings, as validation reads them: redacted from every reason.
SETTINGS = SETTINGS_SPECS["email"]


# SendGrid's client never follows a redirect (channels/redirects.py says why).
class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handler with every redirect refused: the 3xx then raises HTTPError."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


class NoRedirectClient(python_http_client.Client):  # type: ignore[misc]
    """python_http_client's client (what SendGrid's library calls) over an opener that refuses
    redirects; the clients it builds for each path segment are of this class too."""

    def _build_client(self, name: str | None = None) -> NoRedirectClient:
        url_path = [*self._url_path, name] if name else self._url_path
        return NoRedirectClient(
            host=self.host,
            version=self._version,
            request_headers=self.request_headers,
            url_path=url_path,
            append_slash=self.append_slash,
            timeout=self.timeout,
        )

    def _make_request(self, opener: Any, request: Any, timeout: float | None = None) -> Any:
        return super()._make_request(_NO_REDIRECTS, request, timeout)


class InvalidAddress(ValueError):
    pass


def parse_address(text: str) -> tuple[str, str]:
    """(display name, addr-spec) of ``Name <a@b.c>`` or ``a@b.c``; InvalidAddress otherwise."""
    name, addr = parseaddr(text.strip())
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in addr):
        raise InvalidAddress(f"invalid e-mail address {text!r}")
    return name, addr


def unique(addresses: list[str], exclude: set[str]) -> list[str]:
    """Addresses without repeats (case-insensitively) and without those in ``exclude``."""
    seen = {a.lower() for a in exclude}
    kept = []
    for address in addresses:
        key = parse_address(address)[1].lower()
        if key not in seen:
            seen.add(key)
            kept.append(address)
    return kept


class _Envelope:
    """What both transports need from one delivery, checked before any network call."""

    def __init__(self, out: Outbound, settings: ResolvedSettings) -> None:
        if not out.recipient:
            raise InvalidAddress("an e-mail delivery needs a recipient address")
        self.sender = settings.require("from")
        self.sender_name, self.sender_addr = parse_address(self.sender)
        self.to = out.recipient
        self.to_addr = parse_address(self.to)[1]
        # A recipient listed again in cc/bcc would get two copies (SendGrid refuses it).
        self.cc = unique(settings.strings("cc"), {self.to_addr})
        self.bcc = unique(settings.strings("bcc"), {self.to_addr, *self._addrs(self.cc)})
        self.reply_to = settings.text("reply_to")
        if self.reply_to:
            parse_address(self.reply_to)
        self.subject = out.message.subject or out.request.title or "(no subject)"
        self.attachments: list[Attachment] = decode_attachments(out.request)
        links = links_text(self.attachments)
        text = out.message.text or ""
        self.text = f"{text.rstrip()}\n\n{links}\n" if links else text
        self.html = getattr(out.message, "html", None)
        self.files = [a for a in self.attachments if a.content is not None]

    @staticmethod
    def _addrs(addresses: list[str]) -> set[str]:
        return {parse_address(a)[1].lower() for a in addresses}

    @property
    def recipients(self) -> list[str]:
        return [self.to_addr, *(parse_address(a)[1] for a in (*self.cc, *self.bcc))]


def build_mime(out: Outbound, env: _Envelope, clock: Clock = time.time) -> EmailMessage:
    """The MIME message: text, plus an HTML alternative when there is one, plus files."""
    message = EmailMessage()
    message["From"] = env.sender
    message["To"] = env.to
    if env.cc:
        message["Cc"] = ", ".join(env.cc)
    if env.reply_to:
        message["Reply-To"] = env.reply_to
    message["Subject"] = " ".join(env.subject.split())  # no folded newlines in a header
    message["Date"] = formatdate(clock(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=env.sender_addr.rpartition("@")[2])
    # RFC 3834: tells vacation responders not to answer a notification.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Notifierd-Delivery"] = out.delivery_id
    message["X-Notifierd-Request"] = out.request.id
    message.set_content(env.text or " ")
    if env.html:
        message.add_alternative(env.html, subtype="html")
    for file in env.files:
        maintype, _, subtype = file.content_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        assert file.content is not None
        message.add_attachment(
            file.content, maintype=maintype, subtype=subtype, filename=file.filename
        )
    return message


def smtp_code_failure(code: int, text: str | bytes, what: str) -> Failed:
    """5xx replies are permanent (550 no such user, 535 bad credentials); 4xx are transient."""
    message = text.decode() if isinstance(text, bytes) else str(text)
    return Failed(
        f"SMTP {what} refused: {code} {truncate(message, 200)}",
        transient=not 500 <= code < 600,
        status_code=code,
    )


class SMTPSender:
    """Sends over SMTP, one connection per message (STARTTLS/implicit TLS and AUTH as set)."""

    def __init__(self, channel: Channel, settings: ResolvedSettings, *, clock: Clock = time.time):
        self.channel = channel
        self._settings = settings
        self._host = settings.require("host")
        self._use_tls = settings.flag("use_tls", False)
        self._starttls = False if self._use_tls else settings.flag("starttls", True)
        default_port = 465 if self._use_tls else 587 if self._starttls else 25
        try:
            self._port = int(settings.get("port", default_port))
        except (TypeError, ValueError):
            raise ChannelConfigError(f"channel {channel.name!r}: port must be a number") from None
        self._username = settings.text("username")
        self._password = settings.text("password")
        self._password_source = secret_source(channel, "password")
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._clock = clock

    async def send(self, out: Outbound) -> Delivered | Failed:
        try:
            env = _Envelope(out, self._settings)
            message = build_mime(out, env, self._clock)
        except (ChannelConfigError, ValueError) as exc:  # bad address, attachment or 'from'
            return Failed(str(exc), transient=False)
        try:
            refused, response = await asyncio.wait_for(
                aiosmtplib.send(
                    message,
                    sender=env.sender_addr,
                    recipients=env.recipients,
                    hostname=self._host,
                    port=self._port,
                    username=self._username if self._username else None,
                    password=self._password if self._username else None,
                    use_tls=self._use_tls,
                    start_tls=self._starttls,
                    timeout=self._timeout,
                ),
                # aiosmtplib applies ``timeout`` per command; this bounds the whole dialogue.
                self._timeout * 3,
            )
        except Exception as exc:
            failed = self._classify(exc, env)
            return Failed(
                self._settings.redact(failed.reason),
                failed.transient,
                failed.retry_after,
                failed.status_code,
            )
        mine = next((r for a, r in refused.items() if a.lower() == env.to_addr.lower()), None)
        if mine is not None:  # cc/bcc got it, the delivery's own recipient did not
            return smtp_code_failure(mine.code, mine.message, f"recipient {env.to_addr}")
        detail: dict[str, Any] = {"message_id": message["Message-ID"], "response": response}
        if refused:
            detail["refused"] = {a: f"{r.code} {r.message}" for a, r in refused.items()}
        return Delivered(provider_id=message["Message-ID"], detail=detail)

    def _classify(self, exc: BaseException, env: _Envelope) -> Failed:
        where = f"{self._host}:{self._port}"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            mine = next(
                (r for r in exc.recipients if r.recipient.lower() == env.to_addr.lower()),
                exc.recipients[0] if exc.recipients else None,
            )
            if mine is None:
                return Failed("SMTP server refused every recipient", transient=True)
            return smtp_code_failure(mine.code, mine.message, f"recipient {mine.recipient}")
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            failed = smtp_code_failure(exc.code, exc.message, f"login as {self._username!r}")
            if not failed.transient:
                return Failed(
                    f"{failed.reason} (check the username and {self._password_source})",
                    transient=False,
                    status_code=exc.code,
                )
            return failed
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            return smtp_code_failure(exc.code, exc.message, f"sender {exc.sender}")
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            if exc.code < 400:  # e.g. -1 from a garbled reply: try again
                return Failed(f"SMTP error from {where}: {exc.message}", transient=True)
            return smtp_code_failure(exc.code, exc.message, "message")
        if isinstance(exc, asyncio.TimeoutError):  # includes SMTPTimeoutError
            return Failed(f"SMTP {where} timed out after {self._timeout:g}s", transient=True)
        if isinstance(exc, aiosmtplib.SMTPNotSupported) or (
            # aiosmtplib reports a missing STARTTLS/AUTH extension as a bare SMTPException
            type(exc) is aiosmtplib.SMTPException and "not supported" in str(exc)
        ):
            hint = "; set starttls: false for a server without TLS" if self._starttls else ""
            return Failed(f"SMTP {where}: {exc}{hint}", transient=False)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Failed(f"SMTP {where}: TLS certificate not trusted: {exc}", transient=False)
        if isinstance(exc, aiosmtplib.SMTPException | OSError):
            return Failed(f"SMTP {where}: {type(exc).__name__}: {exc}", transient=True)
        return Failed(f"SMTP {where}: unexpected {type(exc).__name__}: {exc}", transient=True)

    async def close(self) -> None:
        return None


class SendGridSender:
    """Sends through SendGrid's /v3/mail/send with the sendgrid library (in a worker thread)."""

    def __init__(self, channel: Channel, settings: ResolvedSettings, *, clock: Clock = time.time):
        self.channel = channel
        self._settings = settings
        self._key_source = secret_source(channel, "api_key")
        host = settings.text("api_url", DEFAULT_SENDGRID_URL) or DEFAULT_SENDGRID_URL
        self._host = host.rstrip("/")  # the client appends /v3/mail/send
        self._timeout = settings.seconds("timeout", DEFAULT_TIMEOUT)
        self._client = SendGridAPIClient(api_key=settings.require("api_key"), host=self._host)
        # urllib would follow a redirect with the API key in its Authorization header.
        self._client.client = NoRedirectClient(
            host=self._host, request_headers=self._client.client.request_headers, version=3
        )
        self._clock = clock

    def build(self, out: Outbound, env: _Envelope) -> dict[str, Any]:
        """The v3 request body (via the library's Mail helper)."""
        mail = Mail(
            from_email=From(env.sender_addr, env.sender_name or None),
            to_emails=To(*_name_addr(env.to)),
            subject=Subject(" ".join(env.subject.split())),
            plain_text_content=PlainTextContent(env.text or " "),
            html_content=HtmlContent(env.html) if env.html else None,
        )
        for address in env.cc:
            mail.add_cc(Cc(*_name_addr(address)))
        for address in env.bcc:
            mail.add_bcc(Bcc(*_name_addr(address)))
        if env.reply_to:
            mail.reply_to = ReplyTo(*_name_addr(env.reply_to))
        for file in env.files:
            assert file.content is not None
            mail.add_attachment(
                SGAttachment(
                    FileContent(base64.b64encode(file.content).decode("ascii")),
                    FileName(file.filename),
                    FileType(file.content_type),
                    Disposition("attachment"),
                )
            )
        # Custom args come back in SendGrid's event webhook, tying events to the delivery.
        mail.add_custom_arg(CustomArg("delivery_id", out.delivery_id))
        mail.add_custom_arg(CustomArg("request_id", out.request.id))
        mail.add_header(Header("Auto-Submitted", "auto-generated"))
        return mail.get()

    def _post(self, body: dict[str, Any]) -> Any:
        return self._client.client.mail.send.post(request_body=body, timeout=self._timeout)

    async def send(self, out: Outbound) -> Delivered | Failed:
        try:
            env = _Envelope(out, self._settings)
            body = self.build(out, env)
        except (ChannelConfigError, ValueError) as exc:
            return Failed(str(exc), transient=False)
        try:
            # The library is blocking (urllib): never on the event loop.
            response = await asyncio.to_thread(self._post, body)
        except Exception as exc:
            failed = self._classify(exc)
            return Failed(
                self._settings.redact(failed.reason),
                failed.transient,
                failed.retry_after,
                failed.status_code,
            )
        status = int(getattr(response, "status_code", 0) or 0)
        headers = getattr(response, "headers", None) or {}
        message_id = headers.get("X-Message-Id") if hasattr(headers, "get") else None
        if not 200 <= status < 300:
            return Failed(f"SendGrid answered HTTP {status}", transient=True, status_code=status)
        return Delivered(provider_id=message_id, detail={"status": status})

    def _classify(self, exc: BaseException) -> Failed:
        if isinstance(exc, SendGridHTTPError):
            status = int(exc.status_code)
            headers = exc.headers or {}
            message = _sendgrid_errors(exc.body) or str(getattr(exc, "reason", "") or "")
            reason = f"SendGrid HTTP {status}: {message}".rstrip(": ")
            if is_redirect(status):
                reason += redirect_note(headers.get("Location"))
            if status in (401, 403):
                reason += f" (the API key from {self._key_source} was refused)"
            transient = http_status_is_transient(status)
            retry_after = None
            if transient:
                retry_after = parse_retry_after(headers.get("Retry-After"), self._clock)
                if retry_after is None:
                    retry_after = parse_rate_limit_reset(
                        headers.get("X-RateLimit-Reset"), self._clock
                    )
            return Failed(reason, transient, retry_after, status)
        if isinstance(exc, TimeoutError | socket.timeout):
            return Failed(f"SendGrid timed out after {self._timeout:g}s", transient=True)
        if isinstance(exc, urllib.error.URLError):
            cause = exc.reason
            if isinstance(cause, TimeoutError | socket.timeout):
                return Failed(f"SendGrid timed out after {self._timeout:g}s", transient=True)
            if isinstance(cause, ssl.SSLCertVerificationError):
                return Failed(f"SendGrid {self._host}: TLS certificate not trusted", False)
            return Failed(f"SendGrid {self._host} unreachable: {cause}", transient=True)
        if isinstance(exc, OSError):
            return Failed(f"SendGrid {self._host}: {type(exc).__name__}: {exc}", transient=True)
        if isinstance(exc, ValueError):  # e.g. a malformed api_url
            return Failed(f"SendGrid request not possible: {exc}", transient=False)
        return Failed(f"SendGrid: unexpected {type(exc).__name__}: {exc}", transient=True)

    async def close(self) -> None:
        return None


def _name_addr(text: str) -> tuple[str, str | None]:
    name, addr = parse_address(text)
    return addr, name or None


def _sendgrid_errors(body: Any) -> str:
    """The messages of SendGrid's ``{"errors": [{"message", "field"}]}`` body."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return truncate(str(body), 200) if body else ""
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return truncate(json.dumps(data), 200)
    parts = []
    for error in data["errors"][:5]:
        if isinstance(error, dict):
            field = error.get("field")
            message = str(error.get("message") or "")
            parts.append(f"{field}: {message}" if field else message)
    return truncate("; ".join(parts), 500)


def create_sender(
    channel: Channel,
    environ: Mapping[str, str],
    *,
    http: aiohttp.ClientSession | None = None,  # unused: SMTP and urllib bring their own
    clock: Clock = time.time,
) -> SMTPSender | SendGridSender:
    """The sender for the channel's ``transport`` (smtp, the default, or sendgrid)."""
    settings = resolve_settings(channel, environ, SETTINGS)
    transport = settings.text("transport", "smtp")
    if transport == "sendgrid":
        return SendGridSender(channel, settings, clock=clock)
    if transport == "smtp":
        return SMTPSender(channel, settings, clock=clock)
    raise ChannelConfigError(
        f"channel {channel.name!r}: unknown transport {transport!r}; use smtp or sendgrid"
    )
