"""Redis restarted and Postgres connections cut under a running daemon: it reconnects, loses nothing."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from tests.e2e.conftest import DaemonProcess, write_sink_config
from tests.e2e.test_crash_recovery import wait_until
from tests.fakes.private_redis import PrivateRedis
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail(
            "redis-server is not installed; this test runs a private one (scripts/ensure-services needs it too)"
        )
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    server = WebhookSink()
    await server.start()
    yield server
    await server.stop()


async def push(redis: Redis, queue: str, ids: list[str]) -> None:
    for rid in ids:
        await redis.lpush(queue, json.dumps({"id": rid, "title": "restart", "message": rid}))


async def delivered(pg_url: str, ids: list[str]) -> int:
    conn = await asyncpg.connect(pg_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE status = 'delivered' AND request_id = ANY($1)",
                ids,
            )
        )
    except asyncpg.UndefinedTableError:  # the daemon has not migrated its database yet
        return 0
    finally:
        await conn.close()


async def test_redis_restart_under_the_daemon(
    tmp_path: Path,
    pg_url: str,
    private_redis: PrivateRedis,
    sink: WebhookSink,
    daemons: list[DaemonProcess],
) -> None:
    config = write_sink_config(tmp_path / "config")
    daemon = DaemonProcess(
        config, "e2e", private_redis.url, pg_url, sink.url, tmp_path / "daemon.log"
    ).start()
    daemons.append(daemon)
    before = [f"before-{i}" for i in range(100)]
    after = [f"after-{i}" for i in range(100)]
    redis = Redis.from_url(private_redis.url)
    await push(redis, "e2e:requests", before)

    async def all_before() -> bool:
        return await delivered(pg_url, before) == len(before)

    await wait_until(all_before, 30, "the first 100 deliveries")
    await redis.aclose()
    private_redis.stop()  # no persistence: Redis comes back empty, as after a real crash
    await asyncio.sleep(1.5)
    assert daemon.alive(), daemon.log.read_text()[-2000:]
    private_redis.start()
    redis = Redis.from_url(private_redis.url)
    await push(redis, "e2e:requests", after)

    async def all_after() -> bool:
        return await delivered(pg_url, after) == len(after)

    await wait_until(all_after, 60, "the 100 deliveries pushed after the restart")
    await redis.aclose()
    assert await daemon.terminate() == 0


async def test_postgres_connections_cut_under_the_daemon(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    sink: WebhookSink,
    daemons: list[DaemonProcess],
) -> None:
    config = write_sink_config(tmp_path / "config")
    sink.delay = 0.002
    daemon = DaemonProcess(
        config, redis_prefix.prefix, redis_prefix.url, pg_url, sink.url, tmp_path / "daemon.log"
    ).start()
    daemons.append(daemon)
    ids = [f"pg-{i}" for i in range(600)]
    await push(redis_prefix.redis, f"{redis_prefix.prefix}:requests", ids)
    database = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_url.rsplit("/", 1)[0] + "/postgres")
    try:
        # Cut every connection of the daemon's database a few times while the burst flows; this
        # is what the daemon sees when Postgres restarts.
        for _ in range(5):
            await asyncio.sleep(0.3)
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
    finally:
        await admin.close()

    async def all_done() -> bool:
        return await delivered(pg_url, ids) == len(ids)

    await wait_until(all_done, 60, "600 deliveries despite the cut connections")
    assert daemon.alive()
    assert await redis_prefix.redis.llen(f"{redis_prefix.prefix}:requests") == 0
    assert await daemon.terminate() == 0
