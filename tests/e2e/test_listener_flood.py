"""A daemon whose file-descriptor limit is lower than an idle-connection flood: /healthz still
answers and a delivery still opens its connection, because the listener keeps to its share."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import aiohttp

from tests.e2e.conftest import DaemonProcess, write_sink_config
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix

FDS = 600  # the daemon's RLIMIT_NOFILE, soft and hard: its listener may hold 600 - 512 = 88
FLOOD = 700  # idle connections: more than the daemon has descriptors

# Runs the daemon's command line with the lowered limit (exec: the same process, as Popen sees it).
LIMITED = (
    "import os, resource, sys; "
    "n = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def healthz(port: int, timeout: float) -> int | None:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return None


async def test_an_idle_flood_beyond_the_fd_limit_leaves_healthz_and_deliveries_working(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    sink = WebhookSink()
    await sink.start()
    port = free_port()
    daemon = DaemonProcess(
        write_sink_config(tmp_path / "config"),
        redis_prefix.prefix,
        redis_prefix.url,
        pg_url,
        sink.url,
        tmp_path / "daemon.log",
        "--http",
        f"127.0.0.1:{port}",
    )
    daemon.args = [sys.executable, "-c", LIMITED, str(FDS), *daemon.args[1:]]
    daemons.append(daemon.start())
    flood: list[asyncio.StreamWriter] = []
    try:
        for _ in range(100):
            if await healthz(port, 1.0) == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the daemon did not serve: {daemon.log.read_text()[-2000:]}")
        for _ in range(FLOOD):
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
            except (OSError, TimeoutError):
                continue  # a daemon out of descriptors leaves them in the backlog
            flood.append(writer)
        await asyncio.sleep(0.5)
        assert await healthz(port, 2.0) == 200
        request = {"id": "during-the-flood", "title": "t", "message": "m"}
        await redis_prefix.redis.lpush(f"{redis_prefix.prefix}:requests", json.dumps(request))
        for _ in range(100):
            if sink.received:
                break
            await asyncio.sleep(0.1)
        assert [hit.json()["request_id"] for hit in sink.received] == ["during-the-flood"]
        assert "Too many open files" not in daemon.log.read_text()
    finally:
        for writer in flood:
            writer.close()
        await daemon.terminate()
        await sink.stop()
