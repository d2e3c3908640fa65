"""kill -9 in the middle of a burst to Slack: after the restart nothing is lost, and people see
at most a handful of messages twice (the sends whose answer had not come back)."""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path

import asyncpg
import pytest

from tests.e2e.conftest import DaemonProcess
from tests.e2e.test_crash_recovery import wait_until
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI
from tests.integration.redis_fixtures import RedisPrefix

TOTAL = 600
# Slack's sends under way at once (max_in_flight, default 8), plus the few finished in the
# moment before the kill whose records were still on their way to Postgres.
HANDFUL = 16

SLACK_CONFIG = """\
settings:
  retry: {max_retries: 5, initial_delay: 100ms, multiplier: 2, max_delay: 2s, jitter: 0.1}
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}"}
routes:
  - name: default
    channels: [chat]
    recipients: ["#ops"]
"""


async def test_kill_9_mid_burst_to_slack_repeats_a_handful_at_most(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    daemons: list[DaemonProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack = FakeSlackAPI()
    slack.delay = 0.02  # a provider takes a moment: sends are under way when the process dies
    await slack.start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_URL", slack.url)
    config = tmp_path / "config"
    config.mkdir()
    (config / "routes.yaml").write_text(SLACK_CONFIG)
    prefix, redis = redis_prefix.prefix, redis_prefix.redis
    ids = [f"burst-{i:03d}" for i in range(TOTAL)]
    await redis.lpush(
        f"{prefix}:requests",
        *(json.dumps({"id": rid, "title": "deploy", "message": rid}) for rid in ids),
    )

    def log(name: str) -> Path:
        return tmp_path / f"{name}.log"

    first = DaemonProcess(config, prefix, redis_prefix.url, pg_url, "-", log("first")).start()
    daemons.append(first)

    async def some_posted() -> bool:
        return len(slack.posted()) >= 150

    await wait_until(some_posted, 60, "150 Slack messages")
    first.kill()
    at_kill = len(slack.posted())
    assert at_kill < TOTAL, "the burst finished before the kill; make it bigger"

    second = DaemonProcess(config, prefix, redis_prefix.url, pg_url, "-", log("second")).start()
    daemons.append(second)
    conn = await asyncpg.connect(pg_url)
    try:

        async def all_recorded() -> bool:
            n = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
            return n == TOTAL

        await wait_until(all_recorded, 90, f"{TOTAL} delivered deliveries in Postgres")
    finally:
        await conn.close()
    posted = collections.Counter(m["text"].rsplit("\n", 1)[-1] for m in slack.messages)
    assert set(posted) == set(ids)  # nothing lost
    repeats = sum(n - 1 for n in posted.values())
    print(f"kill -9 after {at_kill} Slack messages: {repeats} posted twice")
    assert repeats <= HANDFUL, f"{repeats} Slack messages posted twice after one kill"
    assert await second.terminate() == 0
    await slack.stop()
    await asyncio.sleep(0)
