"""A person's preferences through the running daemon: reached where they chose, or on record
as reaching no one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlackAPI
from tests.integration.daemon_harness import start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}", default_recipients: ["#ops"]}
  sink: {type: webhook, url: "${SINK_URL}"}
people:
  alice:
    contacts:
      - {slack: "@U0ALICE", min_severity: critical}
routes:
  - name: db
    matchers: ['team="db"']
    channels: [chat]
    recipients: [alice]
  - name: default
    channels: [sink]
"""


async def test_preferences_decide_who_is_reached(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    slack = slack_api
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES):
        critical = await running.push(
            {"title": "t", "message": "m", "severity": "critical", "labels": {"team": "db"}}
        )
        status = await running.status(critical)
        assert status["status"] == "delivered"
        assert [(d["channel"], d["recipient"]) for d in status["deliveries"]] == [
            ("chat", "@U0ALICE")
        ]
        # A warning: alice asked for Slack only from critical up, and #ops is not paged
        # in her place; the record says why nothing went out.
        warning = await running.push(
            {"title": "t", "message": "m", "severity": "warning", "labels": {"team": "db"}}
        )
        status = await running.status(warning, until=("unrouted",))
        assert status["deliveries"] == []
        assert status["reason"] == (
            "route(s) db matched but reach no one: the preferences of the people they "
            "name pick none of their channels"
        )
        assert [m["channel"] for m in slack.messages] == ["D0ALICE"]  # her direct messages
