"""Webhook sender: signed JSON POSTs to a local receiver, failures classified by status."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from email.utils import formatdate

import aiohttp
import pytest

from notifierd.channels import Delivered, Failed, create_sender
from tests.fakes import WebhookSink, make_channel, make_outbound, unused_port

NOW = 1_700_000_000.0
ENV = {"AUDIT_SECRET": "whsec-very-secret", "AUDIT_TOKEN": "tok-123456"}
REQUEST = {
    "id": "req-42",
    "kind": "alert",
    "severity": "critical",
    "priority": "high",
    "source": "prometheus",
    "protocol": "P-OPS-1",
    "tags": ["db"],
    "labels": {"service": "db"},
    "metadata": {"runbook": "https://wiki/db"},
    "dedup_key": "db-down",
}


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    async with WebhookSink() as fake:
        yield fake


def hook_channel(url: str, **settings: object):
    return make_channel("audit", "webhook", **{"url": url, "timeout": "2s", **settings})


async def post(channel, env=ENV, **kwargs):
    sender = create_sender(channel, env, clock=lambda: NOW)
    try:
        return await sender.send(make_outbound(channel, None, request=REQUEST, **kwargs))
    finally:
        await sender.close()


async def test_signed_json_post(sink: WebhookSink) -> None:
    channel = hook_channel(
        sink.url,
        secret="${AUDIT_SECRET}",
        headers={"Authorization": "Bearer ${AUDIT_TOKEN}", "X-Team": "ops"},
    )

    result = await post(channel)

    assert isinstance(result, Delivered)
    [received] = sink.received
    body = received.json()
    assert body["request_id"] == "req-42"
    assert body["delivery_id"] == "dlv-1"
    assert body["channel"] == "audit"
    assert body["subject"] == "Deployment Complete: production"
    assert body["text"] == "Version: v2.1.0\nDeployed by: Alice"
    assert body["sent_at"] == "2023-11-14T22:13:20Z"
    assert body["request"]["kind"] == "alert"
    assert body["request"]["action"] == "trigger"
    assert body["request"]["labels"] == {"service": "db"}
    assert body["request"]["dedup_key"] == "db-down"
    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Notifierd-Delivery"] == "dlv-1"
    assert headers["X-Notifierd-Timestamp"] == "1700000000"
    assert headers["Authorization"] == "Bearer tok-123456"
    assert headers["X-Team"] == "ops"
    # The receiver's check: HMAC-SHA256 over "<timestamp>.<raw body>".
    signed = b"1700000000." + received.body
    expected = hmac.new(b"whsec-very-secret", signed, hashlib.sha256).hexdigest()
    assert headers["X-Notifierd-Signature"] == f"sha256={expected}"
    assert WebhookSink.verify(received, "whsec-very-secret")
    assert not WebhookSink.verify(received, "another-secret")


async def test_every_post_of_one_sender_is_signed_alone(sink: WebhookSink) -> None:
    # The sender keys its HMAC once: each POST's signature covers that POST only.
    channel = hook_channel(
        sink.url, secret="${AUDIT_SECRET}", headers={"content-type": "text/plain", "X-Team": "a"}
    )
    times = iter([NOW, NOW + 7])
    sender = create_sender(channel, ENV, clock=lambda: next(times))
    try:
        for n in (1, 2):
            outbound = make_outbound(channel, None, request={**REQUEST, "id": f"req-{n}"})
            assert isinstance(await sender.send(outbound), Delivered)
    finally:
        await sender.close()

    assert [r.headers["X-Notifierd-Timestamp"] for r in sink.received] == [
        "1700000000",
        "1700000007",
    ]
    for received in sink.received:
        assert WebhookSink.verify(received, "whsec-very-secret")
        assert received.headers["Content-Type"] == "application/json"  # ours, not configured
        assert received.headers["X-Team"] == "a"


async def test_no_secret_no_signature(sink: WebhookSink) -> None:
    assert isinstance(await post(hook_channel(sink.url)), Delivered)

    assert "X-Notifierd-Signature" not in sink.received[0].headers


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_server_errors_are_transient(sink: WebhookSink, status: int) -> None:
    sink.fail_next(status=status, text="try later")

    result = await post(hook_channel(sink.url))

    assert isinstance(result, Failed)
    assert result.transient
    assert result.status_code == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413])
async def test_client_errors_are_permanent(sink: WebhookSink, status: int) -> None:
    sink.fail_next(status=status, text="nope")

    result = await post(hook_channel(sink.url))

    assert isinstance(result, Failed)
    assert not result.transient
    assert result.status_code == status
    assert f"HTTP {status}" in result.reason


async def test_429_retry_after_is_honoured(sink: WebhookSink) -> None:
    sink.rate_limit_next(retry_after=7)

    result = await post(hook_channel(sink.url))

    assert result == Failed(result.reason, transient=True, retry_after=7.0, status_code=429)


async def test_429_retry_after_http_date(sink: WebhookSink) -> None:
    sink.rate_limit_next(retry_after=formatdate(NOW + 90, usegmt=True))

    result = await post(hook_channel(sink.url))

    assert isinstance(result, Failed)
    assert result.retry_after == pytest.approx(90.0)


async def test_redirect_is_not_followed(sink: WebhookSink) -> None:
    sink.fail_next(status=301, headers={"Location": "http://127.0.0.1:1/elsewhere"})

    result = await post(hook_channel(sink.url))

    assert isinstance(result, Failed) and not result.transient
    assert "redirect" in result.reason


async def test_timeout_is_transient(sink: WebhookSink) -> None:
    sink.slow_next(delay=3)

    result = await post(hook_channel(sink.url, timeout="300ms"))

    assert isinstance(result, Failed)
    assert result.transient
    assert "timed out" in result.reason


async def test_connection_refused_is_transient() -> None:
    result = await post(hook_channel(f"http://127.0.0.1:{unused_port()}/hook"))

    assert isinstance(result, Failed) and result.transient


async def test_missing_secret_variable_is_permanent(sink: WebhookSink) -> None:
    result = await post(hook_channel(sink.url, secret="${AUDIT_SECRET}"), env={})

    assert isinstance(result, Failed)
    assert not result.transient
    assert "AUDIT_SECRET" in result.reason
    assert sink.requests == []


async def test_secret_in_the_url_never_reaches_a_reason() -> None:
    port = unused_port()
    channel = hook_channel("http://127.0.0.1:" + str(port) + "/hooks/${HOOK_TOKEN}")

    result = await post(channel, env={"HOOK_TOKEN": "path-token-abcdef"})

    assert isinstance(result, Failed)
    assert "path-token-abcdef" not in result.reason


async def test_shared_session_stays_open(sink: WebhookSink) -> None:
    channel = hook_channel(sink.url)
    async with aiohttp.ClientSession() as http:
        sender = create_sender(channel, ENV, http=http)
        for n in range(3):
            assert isinstance(
                await sender.send(make_outbound(channel, delivery_id=f"d{n}")), Delivered
            )
        await sender.close()
        assert not http.closed

    assert [r.headers["X-Notifierd-Delivery"] for r in sink.received] == ["d0", "d1", "d2"]


async def test_a_configured_host_header_replaces_the_urls(sink: WebhookSink) -> None:
    channel = hook_channel(sink.url, headers={"Host": "hooks.internal"})
    assert isinstance(await post(channel), Delivered)
    [received] = sink.received
    assert received.headers.getall("Host") == ["hooks.internal"]


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Connection"])
async def test_framing_headers_cannot_be_configured(sink: WebhookSink, name: str) -> None:
    result = await post(hook_channel(sink.url, headers={name: "5"}))
    assert isinstance(result, Failed) and not result.transient
    assert "cannot be configured" in result.reason
    assert sink.received == []
