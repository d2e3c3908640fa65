"""A lean keep-alive HTTP/1.1 client for the webhook channel: one POST, one response.

The webhook is the channel that carries volume, and aiohttp's client spends about 300 µs of CPU
per request on what a signed JSON POST never uses (cookies, tracing hooks, multidicts, redirect
and proxy handling); this client writes the request bytes itself and parses the answer with
httptools (llhttp, the parser Node.js and aiohttp use), at about a third of the cost. It keeps a
small pool of idle connections per origin, bounds connections per origin, applies one total
timeout to connect + send + answer, and reads at most ``max_body`` bytes of an answer.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, quote, unquote, urlsplit

import httptools

from notifierd.valueclass import value_class

DEFAULT_MAX_CONNECTIONS = 100  # per origin, as aiohttp's connector limit
DEFAULT_IDLE_TIMEOUT = (
    15.0  # below common server keep-alive timeouts (nginx 75 s, Node 5 s + retry)
)
DEFAULT_MAX_BODY = 64 * 1024  # an answer's body is only read for error reasons
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # RFC 3986 pchar and "/", plus "%" (already encoded)
# Headers the client owns: a configured one would contradict the body it frames.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class HttpError(Exception):
    """The request got no complete answer: refused, reset, malformed, timed out."""


class HttpTimeout(HttpError):
    pass


@value_class
class Response:
    status: int
    headers: Mapping[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes  # at most the client's max_body bytes


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed URL: where to connect and what to put in the request line."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str  # path and query, as sent
    authorization: str | None = None  # Basic credentials from the URL's user:password@

    @classmethod
    def parse(cls, url: str) -> Target:
        parts: SplitResult = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the URL must be http:// or https:// with a host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        default = (parts.scheme == "https" and port == 443) or (
            parts.scheme == "http" and port == 80
        )
        host = parts.hostname
        if ":" in host:
            shown = f"[{host}]"
        else:
            try:  # a name in any script goes out as its ASCII (IDNA) form
                host = shown = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise ValueError(f"the host {host!r} is not a valid domain name") from None
        # Characters a request line cannot carry are percent-encoded (UTF-8); existing %XX stay.
        path = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            path += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return cls(
            parts.scheme, host, port, shown if default else f"{shown}:{port}", path, authorization
        )


def _check_header(name: str, value: str) -> None:
    if "\r" in name or "\n" in name or ":" in name or "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} contains a line break or a colon in its name")


def encode_request(target: Target, body: bytes, headers: Mapping[str, str]) -> bytes:
    """The exact bytes of a POST; header names and values must be single-line Latin-1."""
    lines = [
        f"POST {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        f"Content-Length: {len(body)}\r\n"
    ]
    if target.authorization is not None and not any(
        name.lower() == "authorization" for name in headers
    ):
        lines.append(f"Authorization: {target.authorization}\r\n")
    for name, value in headers.items():
        _check_header(name, value)
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + body


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; one request at a time."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[Response] | None = None
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self._armed = 0.0  # the deadline the timer was armed for
        self._deadline = 0.0  # the request in flight's
        self._timeout = 0.0
        # One parser for the connection's answers, one after another (llhttp starts on the
        # next message after each complete one); a connection whose answer was malformed or
        # cut short is closed, never reused.
        self._parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body = bytearray()
        self.received = False  # any byte of the answer to the current request
        self.keep_alive = True
        self._answered = False

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing asked: a server talking out of turn is not reused
            self.close()
            return
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"malformed HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            self._stop_timer()  # nothing in flight: the connection is dropped from the pool
        if self._waiter is not None and not self._waiter.done():
            if self._status and self._delimited_by_close():
                self.on_message_complete()  # an answer delimited by closing the connection
                return
            reason = f"{type(exc).__name__}: {exc}" if exc else "closed by the server"
            self._fail(HttpError(f"connection lost before a complete answer ({reason})"))

    def _delimited_by_close(self) -> bool:
        """True when the answer has neither a length nor chunks: its end is the close."""
        return (
            "content-length" not in self._headers
            and "chunked" not in self._headers.get("transfer-encoding", "").lower()
        )

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        # Another answer, unasked, behind the one asked for (in the same read, or before the
        # exchange let the connection go): the kept parser would read the rest of it, and the
        # next request's answer after it, as that answer. Such a connection is not reused.
        # Unasked bytes that come only after the next request was written on it cannot be
        # told from its answer: HTTP/1.1 gives them nothing to be told by.
        if self._answered:
            self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        room = self._max_body - len(self._body)
        if room > 0:
            self._body += body[:room]

    def on_message_complete(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done() or self._status < 200:
            if self._status < 200:  # 1xx interim answer: the final one follows
                self._status = 0
                self._headers = {}
            return
        self.keep_alive = self._parser.should_keep_alive()
        self._answered = True
        response = Response(self._status, self._headers, bytes(self._body))
        self._headers = {}  # the answer's own: an unasked one after it must not write into it
        waiter.set_result(response)

    # -- used by the pool
    def send(self, data: bytes, deadline: float, timeout: float) -> asyncio.Future[Response]:
        """Write one request; the future fails with HttpTimeout when no answer by ``deadline``."""
        assert self.transport is not None
        self._reset()
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._deadline, self._timeout = deadline, timeout
        # One timer for the connection, not one per request: arming and cancelling a timer for
        # every request cost more than the rest of its bookkeeping. It stays armed after an
        # answer; when it fires, it looks at the request then in flight (_check_deadline).
        if self._timer is None or deadline < self._armed:
            self._arm(deadline)
        self.transport.write(data)
        return self._waiter

    def _arm(self, deadline: float) -> None:
        self._stop_timer()
        self._armed = deadline
        self._timer = asyncio.get_running_loop().call_at(deadline, self._check_deadline)

    def _check_deadline(self) -> None:
        # Decided by the deadlines, not by the clock: uvloop rounds a timer to the millisecond
        # and may run it a little before the deadline it was armed for.
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return  # idle, or answered in time: the next send arms it again
        if self._deadline > self._armed:  # a later request than the one it was armed for
            self._arm(self._deadline)
            return
        self._fail(HttpTimeout(f"no answer within {self._timeout:g}s"))
        self.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def finished(self) -> None:
        self._waiter = None
        self.idle_since = time.monotonic()

    def _fail(self, exc: HttpError) -> None:
        self._stop_timer()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def close(self) -> None:
        self._stop_timer()
        self.closed = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class _Origin:
    slots: asyncio.Semaphore
    idle: list[_Connection] = field(default_factory=list)


class Http11Client:
    """POSTs over pooled keep-alive connections. Not thread-safe; one per event loop."""

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_body: int = DEFAULT_MAX_BODY,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max_connections = max_connections
        self._idle_timeout = idle_timeout
        self._max_body = max_body
        self._ssl_context = ssl_context
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._closed = False

    async def post(
        self, target: Target, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> Response:
        """Send one POST and return its answer; raise HttpError (HttpTimeout) without one."""
        if self._closed:
            raise HttpError("the HTTP client is closed")
        data = encode_request(target, body, headers)
        key = (target.scheme, target.host, target.port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(asyncio.Semaphore(self._max_connections))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if origin.slots.locked():  # every connection busy: waiting counts against the timeout
            try:
                await asyncio.wait_for(origin.slots.acquire(), timeout)
            except TimeoutError:
                raise HttpTimeout(f"no answer within {timeout:g}s") from None
        else:
            await origin.slots.acquire()
        try:
            return await self._exchange(target, origin, data, deadline, timeout)
        finally:
            origin.slots.release()

    async def _exchange(
        self, target: Target, origin: _Origin, data: bytes, deadline: float, timeout: float
    ) -> Response:
        conn = self._idle_connection(origin)
        reused = conn is not None
        if conn is None:
            conn = await self._connect(target, deadline, timeout)
        try:
            try:
                response = await conn.send(data, deadline, timeout)
            except HttpTimeout:
                raise
            except HttpError:
                # A kept-alive connection the server closed while idle fails before a single
                # byte comes back; that request never reached it, so one fresh try is safe
                # (and receivers dedupe on X-Notifierd-Delivery anyway).
                if not (reused and not conn.received):
                    raise
                conn.close()
                conn = await self._connect(target, deadline, timeout)
                response = await conn.send(data, deadline, timeout)
        except BaseException:
            conn.close()  # cancelled or failed mid-answer: its state is unknown
            raise
        conn.finished()
        if conn.keep_alive and not conn.closed and not self._closed:
            origin.idle.append(conn)
        else:
            conn.close()
        return response

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        now = time.monotonic()
        while origin.idle:
            conn = origin.idle.pop()  # most recent first: the likeliest to be alive
            if not conn.closed and now - conn.idle_since < self._idle_timeout:
                return conn
            conn.close()
        return None

    async def _connect(self, target: Target, deadline: float, timeout: float) -> _Connection:
        context: ssl.SSLContext | None = None
        if target.scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            context = self._ssl_context
        loop = asyncio.get_running_loop()
        max_body = self._max_body
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(max_body),
                    target.host,
                    target.port,
                    ssl=context,
                    server_hostname=target.host if context else None,
                ),
                max(0.0, deadline - loop.time()),
            )
        except TimeoutError:
            raise HttpTimeout(f"no answer within {timeout:g}s (connecting)") from None
        except OSError as exc:
            raise HttpError(f"cannot connect: {exc.strerror or exc}") from None
        return conn

    async def close(self) -> None:
        self._closed = True
        for origin in self._origins.values():
            for conn in origin.idle:
                conn.close()
            origin.idle.clear()
        self._origins.clear()
