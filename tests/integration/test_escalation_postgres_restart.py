"""A Postgres restart under the escalator: a WARNING line per job saying what happens next, no
ERROR and no traceback, and the step that fell due meanwhile fires once Postgres is back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.private_postgres import PrivatePostgres
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  escalation: {misfire_grace: 1h}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  pager: {type: webhook, url: "${FLAKY_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
"""
POLICY = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: 3s, channels: [pager]}
"""


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
async def running(
    tmp_path: Path,
    private_postgres: PrivatePostgres,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Running]:
    files = {"policies/oncall.yaml": POLICY}
    async for daemon in start_daemon(
        tmp_path,
        private_postgres.url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files=files,
        escalation_poll=0.2,
    ):
        yield daemon


async def test_a_postgres_restart_is_one_warning_line_per_job(
    running: Running, private_postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    await running.push({"id": "db-down", "kind": "alert", "dedup_key": "db-down"})
    await running.idle()
    caplog.clear()
    caplog.set_level(logging.INFO, logger="notifierd")
    # Level 2 falls due while Postgres is away: polls, the wake-up timer and the pass all fail.
    await asyncio.to_thread(private_postgres.stop)
    await asyncio.sleep(4)
    await asyncio.to_thread(private_postgres.start)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not running.flaky.received and loop.time() < deadline:
        await asyncio.sleep(0.1)
    assert [b["request_id"] for b in running.flaky.bodies()] == ["db-down:r1l2"]

    # The escalator, and the retrier polling the same Postgres beside it.
    ours = [r for r in caplog.records if r.name in ("notifierd.escalation", "notifierd.retry")]
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    assert {r.name for r in warnings} == {"notifierd.escalation", "notifierd.retry"}
    for record in ours:
        text = record.getMessage()
        assert record.levelno < logging.ERROR, text
        assert record.exc_info is None and "\n" not in text, text
    # Each says what happens next: the outage's "the next poll looks again in …", or a write
    # retried at once, "… again in 0.1s" (which one depends on when Postgres goes).
    assert all("next" in r.getMessage() or "again in" in r.getMessage() for r in warnings)
    # A job that polls says so once for the whole outage, not once per poll (every 0.2 s).
    polls = [r.getMessage() for r in warnings if "(attempt " not in r.getMessage()]
    assert len(polls) <= 4, polls
    # A write the outage cut off (the step's outcome, when Postgres went as it was sent) is
    # retried with a doubling pause: one line for its first failure, the later tries at DEBUG.
    retried = [r.getMessage() for r in warnings if "(attempt " in r.getMessage()]
    assert all("(attempt 1)" in line for line in retried), retried
