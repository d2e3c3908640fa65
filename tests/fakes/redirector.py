"""A server that answers every request with a redirect to another, which records what reached it."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.http import FakeHTTPServer


class RedirectTarget(FakeHTTPServer):
    """Where redirects point: records every request (and its Authorization header) and answers
    200 with a body every provider's client reads as success."""

    def setup(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._accept)

    async def _accept(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "channel": "C0OPS", "ts": "1.2", "sid": "SM1"})


class Redirector(FakeHTTPServer):
    """Answers every request with ``status`` and a Location on ``target``, same path and query."""

    def __init__(self, target: RedirectTarget, status: int = 302) -> None:
        super().__init__()
        self.target = target
        self.status = status

    def setup(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._redirect)

    async def _redirect(self, request: web.Request) -> web.Response:
        location = self.target.origin + request.path_qs
        return web.Response(status=self.status, headers={"Location": location})
