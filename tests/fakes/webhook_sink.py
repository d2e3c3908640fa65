"""A local webhook receiver: records every POST, answers a configurable status, checks HMACs."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from aiohttp import web

from tests.fakes.http import FakeHTTPServer, RecordedRequest

HOOK_PATH = "/hook"


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a receiver computes: HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSink(FakeHTTPServer):
    """``url`` is the hook URL; ``status`` (default 200) answers every request not faulted."""

    def __init__(self, *, status: int = 200, body: str = "ok", host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.status = status
        self.body = body

    @property
    def url(self) -> str:
        return self.origin + HOOK_PATH

    def setup(self, app: web.Application) -> None:
        app.router.add_route("*", HOOK_PATH, self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        return web.Response(status=self.status, text=self.body)

    @property
    def received(self) -> list[RecordedRequest]:
        """The POSTs to the hook path, oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path == HOOK_PATH]

    def bodies(self) -> list[Any]:
        return [r.json() for r in self.received]

    @staticmethod
    def verify(request: RecordedRequest, secret: str) -> bool:
        """True when the request's X-Notifierd-Signature matches its timestamp and body."""
        timestamp = request.headers.get("X-Notifierd-Timestamp", "")
        signature = request.headers.get("X-Notifierd-Signature", "")
        return hmac.compare_digest(signature, expected_signature(secret, timestamp, request.body))
