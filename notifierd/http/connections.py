"""The listener's connections under hostile clients: a cap, a deadline for every request head,
a body deadline, a file-descriptor budget the deliveries keep, and bad requests as one line.

aiohttp (3.14) has no request-head timeout: its ``keepalive_timeout`` (3630 s unless set) is
armed when a connection opens and after each answer, so a client trickling one header byte at a
time holds a connection for an hour. ``GuardedHandler`` arms its own deadline instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_request import BaseRequest

from notifierd.http.auth import redacted

log = logging.getLogger("notifierd.http")

# Enough for a delivery burst (max_in_flight), Redis and Postgres pools, logs and the config
# watcher: the listener never takes these, however many clients connect.
RESERVED_FDS = 512
WANTED_FDS = 65536
# Connections the kernel queues before accept(): beyond it a client's SYN is dropped and retried a
# second later, which under a flood is a probe answered in 1 s instead of 5 ms.
BACKLOG = 1024  # the soft limit is raised toward this when the hard limit allows it


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take and how many connections the listener holds at once."""

    head_timeout: float = 10.0  # from opening, or from the last answer, to a whole request head
    body_timeout: float = 30.0  # to read a request body (at most 1 MiB)
    max_connections: int = 512
    reserved_fds: int = RESERVED_FDS


DEFAULT_LIMITS = ConnectionLimits()


def listener_share(limits: ConnectionLimits) -> int:
    """How many connections the listener may hold: ``max_connections``, fewer when the
    process's file-descriptor limit (raised to the hard limit first) would leave deliveries,
    Redis and Postgres fewer than ``reserved_fds``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_FDS if hard == resource.RLIM_INFINITY else min(hard, WANTED_FDS)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit we have; the share shrinks instead
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    share = max(1, min(limits.max_connections, soft - limits.reserved_fds))
    if share < limits.max_connections:
        log.warning(
            "the HTTP listener holds at most %d connections: the file-descriptor limit is %d "
            "and %d stay with deliveries, Redis and Postgres",
            share,
            soft,
            limits.reserved_fds,
            extra={"event": "http_fd_budget"},
        )
    return share


class Connections:
    """The open connections of one listener. At the cap, the connection idle the longest
    (waiting for a request head) is closed to make room; when every one is busy with a
    request, the newcomer is refused."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: set[GuardedHandler] = set()
        self._idle: OrderedDict[GuardedHandler, None] = OrderedDict()  # oldest first

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, connection: GuardedHandler) -> bool:
        while len(self._open) >= self.cap and self._idle:
            oldest, _ = self._idle.popitem(last=False)
            self._open.discard(oldest)  # its socket closes on the next loop turn
            oldest.close_idle("the listener is at its connection cap")
        if len(self._open) >= self.cap:
            return False
        self._open.add(connection)
        self._idle[connection] = None
        return True

    def busy(self, connection: GuardedHandler) -> None:
        self._idle.pop(connection, None)

    def idle(self, connection: GuardedHandler) -> None:
        if connection in self._open:
            self._idle[connection] = None

    def closed(self, connection: GuardedHandler) -> None:
        self._open.discard(connection)
        self._idle.pop(connection, None)


_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
)
_REFUSED_BODY = b'{"error":"too many connections; try again"}'


class GuardedHandler(web.RequestHandler):
    """aiohttp's connection handler, admitted by ``Connections`` and closed when a request
    head does not arrive within ``head_timeout`` of opening or of the last answer."""

    def __init__(
        self, manager: web.Server, connections: Connections, head_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, loop=asyncio.get_running_loop(), **kwargs)
        self._connections = connections
        self._head_timeout = head_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._connections.admit(self):
            # Written straight to the socket: no parser, no task, no log line per refusal.
            assert isinstance(transport, asyncio.Transport)
            transport.write(_REFUSED % (len(_REFUSED_BODY), _REFUSED_BODY))
            transport.close()
            return
        self._admitted = True
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self._admitted:
            return
        self._disarm()
        self._connections.closed(self)
        super().connection_lost(exc)

    def request_started(self) -> None:
        """A whole request head arrived: the deadline stops (the body has its own)."""
        self._disarm()
        self._connections.busy(self)

    def request_finished(self) -> None:
        """Answered: the next request head (keep-alive) gets a fresh deadline."""
        self._connections.idle(self)
        self._arm()

    def close_idle(self, why: str) -> None:
        log.debug("closing an idle HTTP connection: %s", why)
        if self.transport is not None:
            self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = asyncio.get_running_loop().call_later(
            self._head_timeout, self.close_idle, "no whole request head in time"
        )

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A request aiohttp could not parse (line too long, bad header, ...): a 400 saying why
        and one log line, not a traceback. Anything else is aiohttp's to answer."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        reason = _parse_reason(exc, message)
        log.warning(
            "HTTP %d: bad request from %s: %s",
            status,
            request.remote,
            reason,
            extra={"event": "http_bad_request"},
        )
        response = web.Response(
            status=status,
            text=json.dumps({"error": f"bad HTTP request: {reason}"}),
            content_type="application/json",
        )
        response.force_close()
        return response


def _parse_reason(exc: BaseException | None, message: str | None) -> str:
    """aiohttp's words for what is wrong, on one short line (the client's bytes it quotes are
    cut, so a log line stays a line)."""
    if isinstance(exc, LineTooLong):
        return "the request line or a header is longer than the server reads (8190 bytes)"
    text = getattr(exc, "message", None) or message or (str(exc) if exc else "") or "malformed"
    text = redacted(" ".join(str(text).split()))  # it may quote a feed URL with its token
    return text if len(text) <= 120 else text[:117] + "..."


@web.middleware
async def connection_state(request: web.Request, handler: Any) -> web.StreamResponse:
    """Tell the connection a request is in hand (its head deadline stops) and when it is done."""
    connection = request.protocol
    if not isinstance(connection, GuardedHandler):  # a test client without the guard
        return await handler(request)  # type: ignore[no-any-return]
    connection.request_started()
    try:
        return await handler(request)  # type: ignore[no-any-return]
    finally:
        connection.request_finished()


class GuardedSite(web.BaseSite):
    """A TCP site whose connections are GuardedHandlers sharing one ``Connections``."""

    __slots__ = ("_connections", "_host", "_limits", "_port")

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        connections: Connections,
        limits: ConnectionLimits,
    ) -> None:
        super().__init__(runner)
        self._host, self._port = host, port
        self._connections, self._limits = connections, limits

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert isinstance(server, web.Server)
        connections, limits = self._connections, self._limits

        def connection() -> GuardedHandler:
            return GuardedHandler(
                server,
                connections,
                limits.head_timeout,
                access_log=None,  # probes every few seconds would drown the daemon's own log
                # aiohttp's own idle close stays as a backstop behind the head deadline.
                keepalive_timeout=limits.head_timeout * 2,
            )

        self._server = await asyncio.get_running_loop().create_server(
            connection, self._host, self._port, backlog=BACKLOG
        )
