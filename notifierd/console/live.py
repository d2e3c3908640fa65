"""Live updates of the console (``GET /ui/events``, server-sent events): one poller per daemon
asks Postgres which alerts changed, at most once a second and only while a browser listens,
and every connected browser gets each changed alert's row, rendered as the alerts page renders
it. Changes made by any worker or replica are seen: they are read from Postgres, not from this
process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta

from aiohttp import web

from notifierd import metrics
from notifierd.console.render import environment
from notifierd.http.backend import Backend
from notifierd.store.alerts import CHANGES_PER_POLL
from notifierd.store.rows import AlertSummary

log = logging.getLogger("notifierd.console")

POLL_EVERY = 1.0  # seconds between polls: a change shows within about this
HEARTBEAT = 15.0  # a comment line this often keeps proxies from closing an idle stream
# An alert's updated_at is its transaction's start: each poll looks this far behind the last
# one, so a change whose transaction committed up to this late is still seen. Rows seen
# before are not sent again.
OVERLAP = timedelta(seconds=5)
CLIENT_BACKLOG = 1000  # events a slow browser may fall behind before its stream is ended
RECONNECT_MS = 2000  # the browser's EventSource reconnects after this


class Closed(Exception):
    """The daemon is stopping: no new streams."""


class LiveUpdates:
    """The clients following alert changes and the one poller feeding them."""

    def __init__(
        self,
        backend: Backend,
        *,
        poll_every: float = POLL_EVERY,
        heartbeat: float = HEARTBEAT,
        overlap: timedelta = OVERLAP,
    ) -> None:
        self.backend = backend
        self.poll_every = poll_every
        self.heartbeat = heartbeat
        self.overlap = overlap
        self._clients: set[asyncio.Queue[bytes | None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._closed = False
        self._after: datetime | None = None  # where the next poll starts
        self._sent: dict[str, datetime] = {}  # alert id -> the change last sent

    @property
    def clients(self) -> int:
        return len(self._clients)

    def subscribe(self) -> asyncio.Queue[bytes | None]:
        """A new client's queue of events (None: the stream ends); starts the poller."""
        if self._closed:
            raise Closed
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(CLIENT_BACKLOG)
        self._clients.add(queue)
        metrics.CONSOLE_CLIENTS.inc()
        if self._poller is None or self._poller.done():
            self._after = None
            self._sent.clear()
            self._poller = asyncio.create_task(self._poll_while_listened(), name="console-live")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[bytes | None]) -> None:
        if queue in self._clients:
            self._clients.discard(queue)
            metrics.CONSOLE_CLIENTS.dec()

    async def close(self, app: web.Application | None = None) -> None:
        """End every stream and the poller (the daemon is stopping)."""
        self._closed = True
        for queue in list(self._clients):
            _end(queue)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def _poll_while_listened(self) -> None:
        while self._clients and not self._closed:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Postgres away: try again next second
                log.warning(
                    "console live updates: polling failed: %s",
                    exc,
                    extra={"event": "console_poll_failed"},
                )
            await asyncio.sleep(self.poll_every)

    async def poll(self) -> None:
        """One query: what changed since the last poll, sent to every client."""
        # The first poll only learns Postgres' clock (nothing is after the end of time); the
        # next looks OVERLAP behind it, so what changed as the page loaded is sent too.
        after = self._after or datetime.max.replace(tzinfo=UTC)
        found = await self.backend.alert_changes(after)
        full = len(found.alerts) >= CHANGES_PER_POLL
        now = datetime.now(UTC)
        for changed in found.alerts:
            alert = changed.alert
            if self._sent.get(alert.id) == changed.changed_at:
                continue
            self._sent[alert.id] = changed.changed_at
            self._broadcast(event("alert", _alert_data(alert, now)))
        # A full page continues where it stopped; otherwise the next poll overlaps this one.
        self._after = found.alerts[-1].changed_at if full else found.polled_at - self.overlap
        for alert_id, sent in list(self._sent.items()):
            if sent <= self._after:
                del self._sent[alert_id]  # too old to be read again

    def _broadcast(self, data: bytes) -> None:
        for queue in list(self._clients):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:  # a browser that stopped reading: it reconnects
                self.unsubscribe(queue)
                _end(queue)


def _end(queue: asyncio.Queue[bytes | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)


def _alert_data(alert: AlertSummary, now: datetime) -> dict[str, str]:
    row = environment().get_template("_alert_row.html").module.alert_row(alert, now)  # type: ignore[attr-defined]
    return {"id": alert.id, "status": str(alert.status), "html": str(row).strip()}


def event(name: str, data: object) -> bytes:
    """One server-sent event; JSON has no newline of its own, so ``data`` is one line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


LIVE: web.AppKey[LiveUpdates] = web.AppKey("console_live", LiveUpdates)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def events(request: web.Request) -> web.StreamResponse:
    """``GET /ui/events``: the alert changes stream, with a keep-alive comment when idle."""
    live = request.app[LIVE]
    try:
        queue = live.subscribe()
    except Closed:
        raise web.HTTPServiceUnavailable(reason="the daemon is stopping") from None
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    try:
        await response.prepare(request)
        await response.write(f"retry: {RECONNECT_MS}\n\n".encode())
        clock = asyncio.get_running_loop().time
        last_write = clock()
        while not _gone(request):
            try:
                # Woken at least every second: a browser that left is noticed then, not at the
                # next write, so the poller stops soon after the last one leaves.
                item = await asyncio.wait_for(queue.get(), min(live.heartbeat, 1.0))
            except TimeoutError:
                if clock() - last_write < live.heartbeat:
                    continue
                item = b": keep-alive\n\n"
            if item is None:
                break
            await response.write(item)
            last_write = clock()
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    finally:
        live.unsubscribe(queue)
    return response
