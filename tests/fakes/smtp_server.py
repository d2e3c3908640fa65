"""A real SMTP server (aiosmtpd) on a free port that captures messages and can refuse them.

It runs on the test's own event loop (``loop.create_server`` with port 0), so no thread and no
port race. It speaks plain SMTP without TLS: senders under test use ``starttls: false``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# aiosmtpd warns that AUTH without TLS is unsafe; on loopback in tests that is the point.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass
class CapturedMail:
    """One accepted message: the envelope and the parsed MIME message."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None = None

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


@dataclass
class _Script:
    rejected: dict[str, str] = field(default_factory=dict)  # address -> reply
    data_replies: list[str] = field(default_factory=list)  # replies for the next DATAs
    data_delay: float = 0.0


class SMTPServer:
    """``host``/``port`` for the channel settings; accepted messages in ``messages``."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port: int | None = None
        self.username = username
        self.password = password
        self.messages: list[CapturedMail] = []
        self.auth_attempts: list[tuple[str, bool]] = []  # (login, succeeded)
        # A careless server: a refused login's reply repeats the credentials it got, plain and
        # as the AUTH PLAIN and AUTH LOGIN base64 they arrived in.
        self.echo_refused_login = False
        self._script = _Script()
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    # -- scripting ---------------------------------------------------------------

    def reject(self, address: str, reply: str | None = None) -> None:
        """RCPT TO ``address`` gets ``reply`` (default: 550 no such user)."""
        reply = reply or f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        self._script.rejected[address.lower()] = reply

    def fail_next(self, times: int = 1, reply: str = "451 4.3.0 Temporary failure, try later"):
        """The next ``times`` messages are refused at the end of DATA with ``reply``."""
        self._script.data_replies += [reply] * times

    def slow(self, delay: float) -> None:
        """Wait ``delay`` seconds before answering each DATA (a slow or stuck server)."""
        self._script.data_delay = delay

    # -- aiosmtpd handler hooks --------------------------------------------------

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self._script.rejected.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._script.data_delay:
            await asyncio.sleep(self._script.data_delay)
        if self._script.data_replies:
            return self._script.data_replies.pop(0)
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        content = envelope.original_content or b""
        self.messages.append(
            CapturedMail(str(envelope.mail_from), list(envelope.rcpt_tos), content, login)
        )
        return "250 2.0.0 Ok: queued"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = login == self.username and password == self.password
        self.auth_attempts.append((login, ok))
        if not ok and self.echo_refused_login:
            plain = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
            typed = base64.b64encode(data.password).decode()
            echo = f"535 5.7.8 refused {login}:{password} (AUTH PLAIN {plain}, LOGIN {typed})"
            return AuthResult(success=False, handled=False, message=echo)
        return AuthResult(success=ok, handled=False, auth_data=data)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> SMTPServer:
        loop = asyncio.get_running_loop()
        requires_auth = self.username is not None

        def protocol() -> SMTP:
            with warnings.catch_warnings():  # "AUTH without TLS": deliberate on loopback
                warnings.simplefilter("ignore", UserWarning)
                return self._protocol(loop, requires_auth)

        self._server = await loop.create_server(protocol, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _protocol(self, loop: asyncio.AbstractEventLoop, requires_auth: bool) -> SMTP:
        return SMTP(
            self,
            hostname="fake-smtp.test",
            loop=loop,
            auth_required=requires_auth,
            auth_require_tls=False,  # plain loopback; production servers insist on TLS
            authenticator=self._authenticate if requires_auth else None,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SMTPServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
