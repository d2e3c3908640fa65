"""A local Microsoft Teams incoming webhook: a classic connector or a Workflows trigger.

As a connector (the default) it answers a message with one Adaptive Card 200 ``1``; an
unrecognisable envelope 400 ``Bad payload received by generic incoming webhook.``; and, as the
real one does, a well-formed envelope whose card Teams refuses (not an AdaptiveCard, no
version) or that is over 28 KB with 200 and ``Webhook message delivery failed with error:
Microsoft Teams endpoint returned HTTP error 400 ...`` in the body. As a Workflows trigger it
answers 202 with an empty body and a run id header, and 400 for a bad envelope.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiohttp import web

from tests.fakes.http import FakeHTTPServer

# The shape of a real connector URL; the path stands in for the secret parts.
HOOK_PATH = (
    "/webhookb2/5bc73ef7-0000-4826-bbc5-d81852b964ac@47aaea8e-0000-4f27-b77e-9e16dd154a30"
    "/IncomingWebhook/c5d60e4be2b94867abd6194bebdbcb0a/4b54c9c7-0000-43dd-87ad-f17465f53405"
)
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
BAD_PAYLOAD = "Bad payload received by generic incoming webhook."
MESSAGE_MAX_BYTES = 28 * 1024


def delivery_failed(status: int) -> str:
    """The body a classic connector sends with 200 when Teams refused the message."""
    return (
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP "
        f"error {status} with ContextId tcid=0,server=msgapi-fake-1,cv=FakeCv0000.0.."
    )


class FakeTeamsWebhook(FakeHTTPServer):
    """``url`` is the webhook URL; ``cards`` the Adaptive Cards Teams would have posted."""

    def __init__(self, *, workflow: bool = False, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.workflow = workflow
        self.messages: list[dict[str, Any]] = []  # accepted envelopes
        self._runs = itertools.count(1)

    @property
    def url(self) -> str:
        return self.origin + HOOK_PATH

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for m in self.messages for a in m["attachments"]]

    def setup(self, app: web.Application) -> None:
        app.router.add_post(HOOK_PATH, self._receive)

    # -- helpers for tests -------------------------------------------------------

    def fail_in_body_next(self, status: int = 429, times: int = 1) -> None:
        """The next ``times`` posts get 200 with Teams' status ``status`` in the body."""
        self.fail_next(times, 200, text=delivery_failed(status), path=HOOK_PATH)

    # -- the webhook -------------------------------------------------------------

    async def _receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not _envelope_ok(message):
            return web.Response(status=400, text=BAD_PAYLOAD)
        problem = None
        if len(raw) > MESSAGE_MAX_BYTES:
            problem = 413
        elif not all(_card_ok(a["content"]) for a in message["attachments"]):
            problem = 400
        if problem is not None:
            if self.workflow:  # the flow run fails; the trigger already answered
                return web.Response(status=202)
            return web.Response(status=200, text=delivery_failed(problem))
        self.messages.append(message)
        if self.workflow:
            run = f"08584{next(self._runs):015d}CU00"
            return web.Response(status=202, headers={"x-ms-workflow-run-id": run})
        return web.Response(status=200, text="1")


def _envelope_ok(message: Any) -> bool:
    if not isinstance(message, dict) or message.get("type") != "message":
        return False
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return False
    return all(
        isinstance(a, dict)
        and a.get("contentType") == CARD_CONTENT_TYPE
        and isinstance(a.get("content"), dict)
        for a in attachments
    )


def _card_ok(card: dict[str, Any]) -> bool:
    body = card.get("body", [])
    return (
        card.get("type") == "AdaptiveCard"
        and isinstance(card.get("version"), str)
        and isinstance(body, list)
        and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in body)
    )
