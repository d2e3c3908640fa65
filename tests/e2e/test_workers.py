"""``notifierd run --workers 2``: two daemon processes share the queue, one /metrics adds them up,
a worker that dies is started again, SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp

from tests.e2e.conftest import DaemonProcess, write_sink_config
from tests.e2e.test_crash_recovery import wait_until
from tests.e2e.test_service_restarts import delivered, push
from tests.fakes import unused_port
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


async def metric(port: int, name: str) -> float:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


async def test_two_workers_share_the_queue_and_report_together(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    daemons: list[DaemonProcess],
) -> None:
    sink = WebhookSink()
    sink.delay = 0.002
    await sink.start()
    port = unused_port()
    config = write_sink_config(tmp_path / "config")
    daemon = DaemonProcess(
        config,
        redis_prefix.prefix,
        redis_prefix.url,
        pg_url,
        sink.url,
        tmp_path / "daemon.log",
        "--workers",
        "2",
        "--http",
        f"127.0.0.1:{port}",
    ).start()
    daemons.append(daemon)
    assert daemon.proc is not None
    try:
        await wait_until(lambda: _ready(port), 30, "the HTTP listener of worker 0")
        workers = children(daemon.proc.pid)
        assert len(workers) == 2
        # Idle, only worker 0 waits on the queue in Redis; worker 1 looks every 20 ms.
        blocked = []
        for _ in range(30):
            clients = await redis_prefix.redis.client_list()
            blocked.append(sum("b" in c["flags"] and c["cmd"] == "blmove" for c in clients))
            await asyncio.sleep(0.03)
        assert max(blocked) == 1, blocked

        ids = [f"w-{i}" for i in range(1000)]
        await push(redis_prefix.redis, f"{redis_prefix.prefix}:requests", ids)

        async def all_delivered() -> bool:
            return await delivered(pg_url, ids) == len(ids)

        await wait_until(all_delivered, 60, "1,000 deliveries")
        assert sorted(b["request_id"] for b in sink.bodies()) == sorted(ids)  # each once
        # Both workers took requests (each consumer registers itself in Redis), and the one
        # /metrics counts what both delivered.
        consumers = await redis_prefix.redis.smembers(f"{redis_prefix.prefix}:consumers")
        assert len(consumers) == 2
        assert await metric(port, "notifierd_deliveries_total") == 1000

        # A worker killed outright is started again and the pair keeps delivering.
        os.kill(workers[1], signal.SIGKILL)

        async def replaced() -> bool:
            now = children(daemon.proc.pid)  # type: ignore[union-attr]
            return len(now) == 2 and workers[1] not in now

        await wait_until(replaced, 20, "the killed worker to be started again")
        more = [f"w2-{i}" for i in range(200)]
        await push(redis_prefix.redis, f"{redis_prefix.prefix}:requests", more)

        async def more_delivered() -> bool:
            return await delivered(pg_url, more) == len(more)

        await wait_until(more_delivered, 60, "200 more deliveries")

        last = children(daemon.proc.pid)
        assert await daemon.terminate() == 0
        assert not any(os.path.exists(f"/proc/{pid}") for pid in last)  # stopped and reaped
    finally:
        await sink.stop()


async def _ready(port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/readyz") as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False
    finally:
        await asyncio.sleep(0)


async def test_a_worker_that_cannot_start_stops_the_supervisor(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    port = unused_port()
    config = write_sink_config(tmp_path / "config")
    bad_postgres = f"postgresql://postgres@127.0.0.1:{unused_port()}/nothing"
    daemon = DaemonProcess(
        config,
        redis_prefix.prefix,
        redis_prefix.url,
        bad_postgres,
        "http://127.0.0.1:9/",
        tmp_path / "daemon.log",
        "--workers",
        "2",
        "--http",
        f"127.0.0.1:{port}",
    ).start()
    daemons.append(daemon)
    assert daemon.proc is not None
    for _ in range(300):
        if daemon.proc.poll() is not None:
            break
        await asyncio.sleep(0.1)
    assert daemon.proc.returncode == 1, daemon.log.read_text()[-2000:]
    assert "cannot reach PostgreSQL" in daemon.log.read_text()


async def test_workers_stop_when_their_supervisor_is_killed(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    """A supervisor killed outright (kill -9, the OOM killer) takes its workers with it: left
    running they would consume unsupervised and keep the listener's port from the next one."""
    port = unused_port()
    config = write_sink_config(tmp_path / "config")
    daemon = DaemonProcess(
        config,
        redis_prefix.prefix,
        redis_prefix.url,
        pg_url,
        "http://127.0.0.1:9/",
        tmp_path / "daemon.log",
        "--workers",
        "2",
        "--http",
        f"127.0.0.1:{port}",
    ).start()
    daemons.append(daemon)
    assert daemon.proc is not None
    await wait_until(lambda: _ready(port), 30, "the HTTP listener of worker 0")
    workers = children(daemon.proc.pid)
    assert len(workers) == 2

    daemon.proc.kill()
    daemon.proc.wait()

    async def gone() -> bool:
        # Exited, or exited and waiting for a reaper (a zombie holds no port, consumes nothing).
        return all(_exited(pid) for pid in workers)

    await wait_until(gone, 30, "the workers to stop after their supervisor was killed")
    assert not await _ready(port)


def _exited(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
