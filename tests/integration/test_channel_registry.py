"""Choosing a sender by channel type, and the pool of one sender per channel."""

from __future__ import annotations

import asyncio
import dataclasses

from notifierd.channels import Delivered, Failed, SenderPool, UnsupportedSender, create_sender
from notifierd.channels.base import parse_retry_after
from notifierd.channels.slack import SlackSender
from notifierd.channels.webhook import WebhookSender
from tests.fakes import WebhookSink, make_channel, make_outbound


def test_types_not_built_yet_fail_permanently() -> None:
    channel = make_channel("pigeons", "carrier-pigeon")

    sender = create_sender(channel, {})
    # Rendered as for a webhook: the renderer itself knows no such channel type either.
    outbound = make_outbound(make_channel("w", "webhook", url="https://example.com/hook"))
    result = asyncio.run(sender.send(dataclasses.replace(outbound, channel=channel)))

    assert isinstance(sender, UnsupportedSender)
    assert isinstance(result, Failed) and not result.transient
    assert "'carrier-pigeon'" in result.reason


def test_each_type_gets_its_sender() -> None:
    slack = make_channel("s", "slack", token="${T}")
    hook = make_channel("w", "webhook", url="https://example.com/hook")

    assert isinstance(create_sender(slack, {"T": "xoxb-1"}), SlackSender)
    assert isinstance(create_sender(hook, {}), WebhookSender)


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", clock=lambda: 1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", clock=lambda: 1445412490.0) == 0.0
    assert parse_retry_after("-1") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_pool_creates_lazily_reuses_and_replaces_on_change() -> None:
    async with WebhookSink() as sink:
        channel = make_channel("audit", "webhook", url=sink.url)
        pool = SenderPool(environ={}, retire_grace=0.05)
        assert len(pool) == 0

        first = pool.get(channel)
        assert pool.get(channel) is first
        assert len(pool) == 1
        assert isinstance(await pool.send(make_outbound(channel)), Delivered)

        changed = make_channel("audit", "webhook", url=sink.url, headers={"X-New": "1"})
        second = pool.get(changed)
        assert second is not first
        assert isinstance(await pool.send(make_outbound(changed)), Delivered)
        assert sink.received[-1].headers["X-New"] == "1"

        await pool.close()
        assert len(pool) == 0
