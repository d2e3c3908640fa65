"""A worker of ``notifierd run --workers N`` started again after SIGKILL: it gets its slot's id
back, so what it held is taken again at once, and it starts even while the config on disk is
broken, from the supervisor's last good copy."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import DaemonProcess, write_sink_config
from tests.e2e.test_crash_recovery import wait_until
from tests.e2e.test_service_restarts import delivered, push
from tests.e2e.test_workers import children
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix

HOST = socket.gethostname()


def worker_in_slot(supervisor: int, slot: int) -> int | None:
    """The pid of the supervisor's worker in ``slot`` (its ``--worker-slot``), if it runs."""
    pids = sorted(children(supervisor))
    for pid in pids:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if (
            b"--worker-slot" in args
            and args[args.index(b"--worker-slot") + 1] == str(slot).encode()
        ):
            return pid
        if b"--worker-slot" not in args and len(pids) > slot:  # a supervisor that names none
            return pids[slot]
    return None


async def consumers(redis_prefix: RedisPrefix) -> set[str]:
    members = await redis_prefix.redis.smembers(f"{redis_prefix.prefix}:consumers")
    return {m.decode() for m in members}


def supervisor(
    tmp_path: Path, name: str, pg_url: str, redis_prefix: RedisPrefix, sink_url: str
) -> DaemonProcess:
    # A heartbeat as long as the default: only the stable id lets the replacement take the
    # killed worker's requests back before it expires.
    return DaemonProcess(
        tmp_path / "config",
        redis_prefix.prefix,
        redis_prefix.url,
        pg_url,
        sink_url,
        tmp_path / f"{name}.log",
        "--workers",
        "2",
        "--heartbeat-ttl",
        "15",
    )


async def test_a_killed_worker_s_requests_are_taken_back_by_its_replacement_at_once(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    sink = WebhookSink()
    sink.delay = 1.0  # each delivery takes a second: the kill finds requests in flight
    await sink.start()
    write_sink_config(tmp_path / "config")
    daemon = supervisor(tmp_path, "daemon", pg_url, redis_prefix, sink.url).start()
    daemons.append(daemon)
    assert daemon.proc is not None
    try:

        async def both_consuming() -> bool:
            return len(await consumers(redis_prefix)) == 2

        await wait_until(both_consuming, 60, "two workers")
        ids = [f"k-{i}" for i in range(300)]
        await push(redis_prefix.redis, f"{redis_prefix.prefix}:requests", ids)

        async def both_hold_some() -> bool:
            lists = [f"{redis_prefix.prefix}:processing:{c}" for c in await consumers(redis_prefix)]
            return all([int(await redis_prefix.redis.llen(key)) > 0 for key in lists])

        await wait_until(both_hold_some, 20, "both workers to take requests")
        victim = worker_in_slot(daemon.proc.pid, 1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        killed_at = asyncio.get_running_loop().time()

        async def all_delivered() -> bool:
            return await delivered(pg_url, ids) == len(ids)

        # Without the slot's id the requests wait for the heartbeat to expire (15 s).
        await wait_until(all_delivered, 10, "every request, the killed worker's too")
        assert asyncio.get_running_loop().time() - killed_at < 10
        assert worker_in_slot(daemon.proc.pid, 1) not in (None, victim)
        assert await consumers(redis_prefix) == {f"{HOST}-w0", f"{HOST}-w1"}
    finally:
        await sink.stop()


async def test_two_daemons_on_one_host_do_not_share_a_worker_id(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    write_sink_config(tmp_path / "config")
    first = supervisor(tmp_path, "first", pg_url, redis_prefix, "http://127.0.0.1:9/").start()
    daemons.append(first)

    async def first_consuming() -> bool:
        return await consumers(redis_prefix) == {f"{HOST}-w0", f"{HOST}-w1"}

    await wait_until(first_consuming, 60, "the first daemon's workers")
    second = supervisor(tmp_path, "second", pg_url, redis_prefix, "http://127.0.0.1:9/").start()
    daemons.append(second)

    async def four_consumers() -> bool:
        return len(await consumers(redis_prefix)) == 4

    await wait_until(four_consumers, 60, "the second daemon's workers, under ids of their own")
    others = await consumers(redis_prefix) - {f"{HOST}-w0", f"{HOST}-w1"}
    assert len(others) == 2 and all(o.startswith(f"{HOST}-") for o in others)
    assert "held by another daemon" in (tmp_path / "second.log").read_text()


async def test_a_worker_killed_while_the_config_is_broken_starts_from_the_last_good_one(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    sink = WebhookSink()
    await sink.start()
    config = write_sink_config(tmp_path / "config")
    daemon = supervisor(tmp_path, "daemon", pg_url, redis_prefix, sink.url).start()
    daemons.append(daemon)
    assert daemon.proc is not None
    try:

        async def both_consuming() -> bool:
            return len(await consumers(redis_prefix)) == 2

        await wait_until(both_consuming, 60, "two workers")
        good = (config / "routes.yaml").read_text()
        (config / "routes.yaml").write_text(good + "routes: [{name: broken\n")
        await asyncio.sleep(1.5)  # the supervisor looks at the files every second
        victim = worker_in_slot(daemon.proc.pid, 1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)

        async def replaced_on_the_copy() -> bool:
            return "starting from the last good copy" in daemon.log.read_text()

        await wait_until(replaced_on_the_copy, 60, "a replacement on the last good config")
        replacement = worker_in_slot(daemon.proc.pid, 1)
        assert replacement not in (None, victim)
        ids = [f"g-{i}" for i in range(100)]
        await push(redis_prefix.redis, f"{redis_prefix.prefix}:requests", ids)

        async def all_delivered() -> bool:
            return await delivered(pg_url, ids) == len(ids)

        await wait_until(all_delivered, 30, "deliveries on the last good config")
        assert worker_in_slot(daemon.proc.pid, 1) == replacement  # it stayed up

        # A cold start on the broken config still refuses to start.
        cold = subprocess.run(
            [sys.executable, "-m", "notifierd", "run", "--config", str(config), "--workers", "2"],
            env=daemon.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cold.returncode == 1
        assert "is invalid; not starting" in cold.stderr
    finally:
        await sink.stop()
