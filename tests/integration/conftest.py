"""Integration fixtures: a fresh Postgres database and a fresh Redis key prefix per test, and a
local Slack API the daemon's Slack channels reach through ${SLACK_URL} and ${SLACK_BOT_TOKEN}."""

from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI
from tests.integration.pg_fixtures import pg_url
from tests.integration.redis_fixtures import redis_prefix

__all__ = ["pg_url", "redis_prefix", "slack_api"]


@pytest.fixture
async def slack_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlackAPI]:
    slack = FakeSlackAPI()
    await slack.start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_URL", slack.url)
    try:
        yield slack
    finally:
        await slack.stop()
