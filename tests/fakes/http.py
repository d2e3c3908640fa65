"""A local aiohttp server base for the SaaS fakes: port 0, request log, scripted faults."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, as it arrived."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Fault:
    """What the next matching request gets instead of (or before) the normal answer.

    ``status=None`` with a ``delay`` is a slow server that then answers normally.
    """

    status: int | None = 500
    json: Any = None
    text: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str | None = None  # only requests to this path (None: any)

    def response(self) -> web.StreamResponse:
        assert self.status is not None
        headers = CIMultiDict(self.headers)
        if self.json is not None:
            return web.json_response(self.json, status=self.status, headers=headers)
        return web.Response(status=self.status, text=self.text or "", headers=headers)


class FakeHTTPServer:
    """Subclasses add routes in ``setup(app)``; ``url`` is set by ``start()``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self.requests: list[RecordedRequest] = []
        self.delay = 0.0  # applied to every request (a slow server)
        self._faults: deque[Fault] = deque()
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------

    @property
    def origin(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin

    def setup(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> FakeHTTPServer:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        self.setup(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)  # the OS picks a free port
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Any:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- scripting ---------------------------------------------------------------

    def fail_next(
        self,
        times: int = 1,
        status: int = 500,
        *,
        json: Any = None,
        text: str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        path: str | None = None,
    ) -> None:
        """The next ``times`` requests get this answer."""
        for _ in range(times):
            self._faults.append(Fault(status, json, text, dict(headers or {}), delay, path))

    def rate_limit_next(self, times: int = 1, retry_after: str | float = 1, **kwargs: Any) -> None:
        """429 Too Many Requests with a Retry-After header (seconds or an HTTP-date)."""
        headers = {"Retry-After": str(retry_after), **kwargs.pop("headers", {})}
        self.fail_next(times, 429, headers=headers, **kwargs)

    def slow_next(self, times: int = 1, delay: float = 5.0, path: str | None = None) -> None:
        """The next ``times`` requests wait ``delay`` seconds, then get the normal answer."""
        for _ in range(times):
            self._faults.append(Fault(status=None, delay=delay, path=path))

    def reset(self) -> None:
        self._faults.clear()
        self.requests.clear()
        self.delay = 0.0

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.path is None or fault.path == path:
                self._faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                CIMultiDictProxy(CIMultiDict(request.headers)),
                body,
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return fault.response()
        return await handler(request)
