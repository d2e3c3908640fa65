"""A request's recipient that fits none of its channels: delivered to the defaults, noted on record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        yield r


async def test_a_recipient_that_fits_no_channel_is_noted_on_the_delivery(running: Running) -> None:
    # The harness routes everything to `sink`, a webhook: no recipient fits it.
    rid = await running.push({"recipients": ["#ops"]})
    assert rid is not None
    status = await running.status(rid)
    assert status["status"] == "delivered"  # not a failure: the channel delivers as configured
    [delivery] = status["deliveries"]
    assert (delivery["channel"], delivery["status"]) == ("sink", "delivered")
    assert delivery["note"] == (
        "recipient '#ops' fits none of the request's channels (sink): nothing is sent to it; "
        "a channel no recipient fits gets its default_recipients, a teams, pagerduty or "
        "webhook channel its configured target"
    )
    assert len(running.sink.received) == 1
