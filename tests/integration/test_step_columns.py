"""Migration 0006: an escalation step's notification names its step in columns, filled in for
the notifications sent before it; Slack buttons sent then (value ``<alert>:r<round>l<level>``)
still acknowledge their alert and tell the places its steps reached."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from notifierd.store.migrate import migrate
from notifierd.store.queries import migrations
from tests.integration.daemon_harness import start_daemon
from tests.integration.redis_fixtures import RedisPrefix
from tests.integration.test_http import SECRET, block_actions, signed

BEFORE = 5  # the last migration before the step columns
STARTED = datetime.now(UTC) - timedelta(minutes=10)


async def migrate_to(conn: asyncpg.Connection, version: int) -> None:
    """The schema as a release that stopped at ``version`` left it (migrate.py's bookkeeping)."""
    await conn.execute(
        """CREATE TABLE schema_migrations (
               version integer PRIMARY KEY, name text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    for number, name, sql in migrations():
        if number <= version:
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", number, name
            )


async def request_row(conn: asyncpg.Connection, rid: str, kind: str = "alert") -> None:
    payload = json.dumps({"id": rid, "kind": kind, "title": "DB down", "message": "m"})
    await conn.execute(
        "INSERT INTO requests (id, kind, outcome, payload, received_at) "
        "VALUES ($1, $2, 'routed', $3::jsonb, $4)",
        rid,
        kind,
        payload,
        STARTED,
    )


async def delivered(conn: asyncpg.Connection, rid: str, channel: str) -> None:
    await conn.execute(
        "INSERT INTO deliveries (id, request_id, channel, channel_type, recipient, status, "
        "attempts) VALUES (gen_random_uuid(), $1, $2, 'webhook', '', 'delivered', 1)",
        rid,
        channel,
    )


async def sent_before_the_migration(conn: asyncpg.Connection) -> None:
    """Alert db-1, opened before 0006: level 1 went to sink with the alert's own message, level 2
    (round 1) fired to flaky, level 3 is pending. A producer's request "deploy:r1l2" merely
    looks like a step's notification."""
    await conn.execute(
        "INSERT INTO alerts (id, dedup_key, status, policy, title, payload, started_at) "
        "VALUES ('db-1', 'db', 'triggered', 'oncall', 'DB down', '{}'::jsonb, $1)",
        STARTED,
    )
    await conn.executemany(
        "INSERT INTO escalation_steps (alert_id, round, level, due_at, status) "
        "VALUES ('db-1', 0, $1, $2, $3)",
        [
            (1, STARTED, "fired"),
            (2, STARTED + timedelta(minutes=5), "fired"),
            (3, STARTED + timedelta(hours=1), "pending"),
        ],
    )
    await request_row(conn, "db-1")
    await delivered(conn, "db-1", "sink")
    await request_row(conn, "db-1:r1l2")
    await delivered(conn, "db-1:r1l2", "flaky")
    await request_row(conn, "deploy:r1l2", kind="notification")


@pytest.fixture
async def old_database(pg_url: str) -> AsyncIterator[str]:
    conn = await asyncpg.connect(pg_url)
    try:
        await migrate_to(conn, BEFORE)
        await sent_before_the_migration(conn)
    finally:
        await conn.close()
    yield pg_url


async def test_the_migration_fills_in_the_steps_of_notifications_already_sent(
    old_database: str,
) -> None:
    conn = await asyncpg.connect(old_database)
    try:
        assert (await migrate(conn))[0] == "0006_step_of_request"
        rows = await conn.fetch(
            "SELECT id, alert_id, step_round, step_level FROM requests ORDER BY id"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("db-1", None, None, None),  # the alert's own request is no step's
        ("db-1:r1l2", "db-1", 0, 2),  # round 1 as people count it is round 0 in the steps table
        ("deploy:r1l2", None, None, None),  # no such step: a plain request
    ]


async def test_an_old_slack_button_acknowledges_after_the_migration(
    old_database: str,
    tmp_path: Path,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    async for running in start_daemon(  # the daemon migrates the old database as it starts
        tmp_path, old_database, redis_prefix, monkeypatch, http="127.0.0.1:0"
    ):
        async with aiohttp.ClientSession(running.http_url) as http:
            # A lookalike id names no alert: nothing happens to db-1.
            body = block_actions("notifierd_ack", "deploy:r1l2")
            async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
                assert resp.status == 200
            body = block_actions("notifierd_ack", "db-1:r1l2")
            async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
                assert resp.status == 200
        alert = None
        for _ in range(100):
            alert = await running.daemon.alerts.store.show("db-1")
            if alert is not None and alert["status"] == "acknowledged":
                break
            await asyncio.sleep(0.05)
        assert alert is not None and alert["status"] == "acknowledged"
        assert alert["acknowledged_by"] == "alice"  # the Slack user who pressed the button
        assert [s["status"] for s in alert["steps"]] == ["fired", "fired", "cancelled"]
        # Told where the alert and its fired step had been delivered, found through the columns.
        await running.status("db-1:acknowledge")
        assert [b["request_id"] for b in running.sink.bodies()] == ["db-1:acknowledge"]
        assert [b["request_id"] for b in running.flaky.bodies()] == ["db-1:acknowledge"]
