"""Local servers that speak the SaaS and mail protocols, for integration tests and benchmarks.

Each fake starts on a port the OS picks (``await fake.start()``, or ``async with``), exposes
``url`` for the channel's settings, records what it received and can be told to fail.
"""

from __future__ import annotations

import socket
from typing import Any

from notifierd.channels.base import Outbound
from notifierd.config.model import Channel
from notifierd.request import Request
from notifierd.templates.message import build_message
from tests.fakes.http import FakeHTTPServer, Fault, RecordedRequest
from tests.fakes.sendgrid_api import FakeSendGrid
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp_server import CapturedMail, SMTPServer
from tests.fakes.webhook_sink import WebhookSink

__all__ = [
    "CapturedMail",
    "FakeHTTPServer",
    "FakeSendGrid",
    "FakeSlackAPI",
    "Fault",
    "RecordedRequest",
    "SMTPServer",
    "WebhookSink",
    "make_channel",
    "make_outbound",
    "unused_port",
]


def unused_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (for connection-refused tests)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def make_channel(name: str, type: str, **settings: Any) -> Channel:
    """A channel as the config snapshot holds it (settings keep their ``${ENV}`` references)."""
    recipients = tuple(settings.pop("default_recipients", ()))
    return Channel(name=name, type=type, settings=settings, default_recipients=recipients)


def make_outbound(
    channel: Channel,
    recipient: str | None = None,
    *,
    subject: str = "Deployment Complete: production",
    text: str = "Version: v2.1.0\nDeployed by: Alice",
    request: Request | dict[str, Any] | None = None,
    delivery_id: str = "dlv-1",
    reply_to: str | None = None,
    **variants: Any,
) -> Outbound:
    """One delivery for ``channel``, rendered the way the pipeline renders it."""
    if not isinstance(request, Request):
        data = {"id": "req-1", "title": subject, "message": text, **(request or {})}
        request = Request.from_dict(data)
    message = build_message(subject, text, channel.type, **variants)
    return Outbound(delivery_id, request, channel, recipient, message, reply_to)
