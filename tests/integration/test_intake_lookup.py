"""The intake's lookup of what a batch already delivered runs beside its loop: a request that
arrives while Postgres answers an earlier batch's lookup is taken and sent without waiting for
it, and a replayed request still sends nothing it already delivered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from notifierd.pipeline.outcome import Known
from notifierd.store.db import Store
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix


@asynccontextmanager
async def daemon_running(*args: Any, **kwargs: Any) -> AsyncIterator[Running]:
    gen = start_daemon(*args, **kwargs)
    try:
        yield await gen.__anext__()
    finally:
        await gen.aclose()


class HeldLookups:
    """The intake's store, answering the lookup of ``held_id`` only once ``release`` is set
    (Postgres slow for that one batch); everything else goes straight to Postgres."""

    def __init__(self, store: Store, held_id: str) -> None:
        self.store = store
        self.held_id = held_id
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def known_deliveries(self, ids: Iterable[str]) -> Known:
        ids = list(ids)
        if self.held_id in ids:
            self.asked.set()
            await self.release.wait()
        return await self.store.known_deliveries(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def delivered_ids(running: Running) -> list[str]:
    return [body["request_id"] for body in running.sink.bodies()]


async def until(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_request_is_sent_while_an_earlier_batchs_lookup_waits_for_postgres(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch) as running:
        intake = running.daemon.services.intake
        held = HeldLookups(intake.store, "slow-1")
        intake.store = held  # type: ignore[assignment]
        await running.push({"id": "slow-1"})
        await asyncio.wait_for(held.asked.wait(), 10)
        await running.push({"id": "quick-1"})
        # Before, the loop awaited each batch's lookup: quick-1 stayed in Redis until then.
        await until(lambda: "quick-1" in delivered_ids(running))
        assert "slow-1" not in delivered_ids(running)  # nothing is sent before its lookup
        held.release.set()
        await until(lambda: "slow-1" in delivered_ids(running))
        for request_id in ("slow-1", "quick-1"):
            status = await running.status(request_id)
            assert status["status"] == "delivered", status
    assert sorted(delivered_ids(running)) == ["quick-1", "slow-1"]


async def test_a_request_pushed_again_sends_nothing_twice(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch) as running:
        await running.push({"id": "twice"})
        status = await running.status("twice")
        assert status["status"] == "delivered", status
        # The same id again (a producer retrying), with others around it in one batch.
        await running.redis.redis.lpush(
            running.queue,
            *[
                json.dumps({"id": i, "title": "t", "message": "m"})
                for i in ("before", "twice", "after")
            ],
        )
        await until(lambda: {"before", "after"} <= set(delivered_ids(running)))
        await asyncio.sleep(0.3)
    assert delivered_ids(running).count("twice") == 1
