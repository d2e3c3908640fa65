"""Daemon.run: start, then tune the garbage collector for the long run, serve, stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import notifierd.daemon
from notifierd.daemon import Daemon, Options
from tests.integration.daemon_harness import write_config
from tests.integration.redis_fixtures import RedisPrefix


async def test_run_settles_the_collector_once_the_daemon_has_started(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SINK_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("SINK_SECRET", "s3cret")
    monkeypatch.setenv("FLAKY_URL", "http://127.0.0.1:9/")
    daemon = Daemon(
        Options(
            config_dir=write_config(tmp_path / "config"),
            redis_url=redis_prefix.url,
            postgres_url=pg_url,
            key_prefix=redis_prefix.prefix,
            queue=f"{redis_prefix.prefix}:requests",
            watch=False,
            shutdown_timeout=5.0,
        )
    )
    settled = asyncio.Event()
    started_then: list[bool] = []

    def settle() -> None:  # the process's collector is left as it is: only the call is seen
        started_then.append(daemon.services.intake is not None)
        settled.set()

    monkeypatch.setattr(notifierd.daemon, "settle_collector", settle)
    running = asyncio.create_task(daemon.run())
    seen = asyncio.create_task(settled.wait())
    try:
        # A start that fails ends run() at once: its error, not a 30 s wait.
        await asyncio.wait([running, seen], timeout=30, return_when=asyncio.FIRST_COMPLETED)
    finally:
        daemon.request_stop()
        seen.cancel()
        await asyncio.wait_for(running, 30)
    assert started_then == [True]
