"""The intake's bounds and the requests of one alert: a long chain of one alert's requests (an
Alertmanager group's members) must not hold the in-flight slots while another alert's first
request, the one that pages, waits in Redis behind it; and what waits in order is bounded too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from notifierd.pipeline.intake import Intake, IntakeLimits
from tests.integration.daemon_harness import Running, daemon_running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

CHAIN = 40  # requests of one alert, queued before another alert's trigger


def trigger(request_id: str, dedup_key: str) -> str:
    return json.dumps(
        {
            "id": request_id,
            "kind": "alert",
            "dedup_key": dedup_key,
            "title": f"{dedup_key} firing",
            "message": request_id,
        }
    )


class Peaks:
    """The most requests the intake held at once, processed and waiting in order, sampled on
    the daemon's own event loop (each sample sees a consistent state)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.processing = 0
        self.waiting = 0

    async def sample(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.processing = max(self.processing, self.intake.processing)
            self.waiting = max(self.waiting, self.intake.waiting_in_order)
            await asyncio.sleep(0.001)


async def run_chain_then_other(
    running: Running, redis_prefix: RedisPrefix, limits: IntakeLimits, pg_url: str
) -> tuple[int, Peaks]:
    """Queue CHAIN triggers of alert ``chain`` then one of alert ``other``; returns how many of
    the chain's requests were recorded before ``other``'s (Postgres' clock), and the peaks."""
    intake = running.daemon.services.intake
    intake.limits = limits
    await asyncio.sleep(0.6)  # a fetch waiting since before the swap times out (0.5 s)
    chain = [f"chain-{i:02d}" for i in range(CHAIN)]
    # One LPUSH, oldest first at the consuming end: the whole chain is ahead of "other".
    await redis_prefix.redis.lpush(
        running.queue, *[trigger(i, "chain") for i in chain], trigger("other-1", "other")
    )
    peaks, stop = Peaks(intake), asyncio.Event()
    sampler = asyncio.create_task(peaks.sample(stop))
    db = await asyncpg.connect(pg_url)
    try:
        ids = [*chain, "other-1"]
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            rows = await db.fetch(
                "SELECT id, outcome, updated_at FROM requests WHERE id = ANY($1::text[])", ids
            )
            if len(rows) == len(ids):
                break
            assert asyncio.get_running_loop().time() < deadline, f"{len(rows)} of {len(ids)}"
            await asyncio.sleep(0.05)
        await running.idle()
    finally:
        stop.set()
        await sampler
        await db.close()
    by_id = {r["id"]: r for r in rows}
    # Every request was applied, in queue order: the first of each alert opened it.
    assert by_id["chain-00"]["outcome"] == "routed"
    assert by_id["other-1"]["outcome"] == "routed"
    assert {by_id[i]["outcome"] for i in chain[1:]} == {"joined"}
    recorded_before = sum(by_id[i]["updated_at"] < by_id["other-1"]["updated_at"] for i in chain)
    return recorded_before, peaks


async def test_another_alerts_first_request_does_not_wait_for_a_long_chain(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four requests processed at once, a chain of 40 ahead: the chain's waiting requests do
    not take the four slots, so the other alert opens while the chain is still being applied
    (before the fix it waited for the 36th: each took a slot until recorded)."""
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch) as running:
        recorded_before, peaks = await run_chain_then_other(
            running, redis_prefix, IntakeLimits(max_in_flight=4), pg_url
        )
    assert recorded_before < CHAIN // 2, (
        f"{recorded_before} of the chain's {CHAIN} requests were recorded before the other "
        "alert's first one"
    )
    assert peaks.processing <= 4
    assert peaks.waiting > 4  # more were taken than the in-flight bound: they only waited


@pytest.mark.parametrize(
    ("limits", "most_waiting"),
    [
        (IntakeLimits(max_in_flight=4, max_waiting_in_order=5), 5),
        # By bytes, the bound holds between fetches: one fetch takes up to the free slots (3).
        (IntakeLimits(max_in_flight=4, max_waiting_bytes=1), 3),
    ],
    ids=["count", "bytes"],
)
async def test_requests_waiting_in_order_are_bounded(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    limits: IntakeLimits,
    most_waiting: int,
) -> None:
    """With room for a few waiting requests, the intake takes no more: the rest of the chain,
    and the other alert behind it, stay in Redis until the chain drains that far."""
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch) as running:
        recorded_before, peaks = await run_chain_then_other(running, redis_prefix, limits, pg_url)
    assert peaks.processing <= 4
    assert 1 <= peaks.waiting <= most_waiting
    # "other" was taken only once at most one of the chain processed and most_waiting waiting
    # were left in flight: every earlier one of the chain was recorded before it.
    assert recorded_before >= CHAIN - 1 - most_waiting, recorded_before


async def test_a_chain_returned_at_shutdown_goes_back_in_queue_order(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain's first request hangs on its receiver past the shutdown timeout, the rest wait
    behind it: all of them go back to the queue, to be taken again in the order they came."""
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        running.flaky.delay = 30  # longer than the shutdown timeout
        running.daemon.options.shutdown_timeout = 0.5
        chain = [f"chain-{i:02d}" for i in range(CHAIN)]
        payloads = [
            json.dumps({**json.loads(trigger(i, "chain")), "labels": {"target": "flaky"}})
            for i in chain
        ]
        await redis_prefix.redis.lpush(running.queue, *payloads)
        intake = running.daemon.services.intake
        for _ in range(200):
            if intake.in_flight == CHAIN and running.flaky.requests:
                break
            await asyncio.sleep(0.05)
        assert intake.waiting_in_order == CHAIN - 1
        await running.daemon.stop()
        queued = await redis_prefix.redis.lrange(running.queue, 0, -1)
        # The consuming end is the tail: taken next is the last element.
        taken_next_first = [json.loads(raw)["id"] for raw in reversed(queued)]
        assert taken_next_first == chain
        running.flaky.delay = 0


async def test_what_a_fetch_cut_off_by_the_shutdown_took_goes_back_to_the_queue(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis takes a fetch's requests into our processing list before its reply arrives; when
    the shutdown cancels the intake in that moment, they are given back, not left in a list
    that only the heartbeat's expiry or the next start of this slot would recover."""
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        running.daemon.options.shutdown_timeout = 0.5
        intake = running.daemon.services.intake
        real_fetch = intake.queues.fetch
        taken = asyncio.Event()

        async def reply_never_arrives(
            *args: Any, real_fetch: Any = real_fetch, taken: asyncio.Event = taken, **kwargs: Any
        ) -> Any:
            got = await real_fetch(*args, **kwargs)
            if not got:
                return got
            taken.set()
            await asyncio.Event().wait()  # cancelled by the shutdown

        monkeypatch.setattr(intake.queues, "fetch", reply_never_arrives)
        await asyncio.sleep(1.0)  # the fetch waiting now (0.5 s at most) is the real one
        await running.push({"id": "cut-off", "title": "cut off"})
        await asyncio.wait_for(taken.wait(), 10)
        await running.daemon.stop()
        queued = await redis_prefix.redis.lrange(running.queue, 0, -1)
        assert [json.loads(raw)["id"] for raw in queued] == ["cut-off"]
        assert await running.store.pool.fetchval("SELECT count(*) FROM deliveries") == 0


def calls(commandstats: dict[str, Any], command: str) -> int:
    return int(commandstats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def blocked_in_redis(running: Running, seconds: float = 0.6) -> int:
    """How many times, sampled every 20 ms over ``seconds``, a client was blocked in a BLMOVE
    (the intake's wait on an empty queue); the daemon is the only Redis client that blocks."""
    seen = 0
    for _ in range(int(seconds / 0.02)):
        clients = await running.redis.redis.client_list()
        seen += sum("b" in c["flags"] and c["cmd"] == "blmove" for c in clients)
        await asyncio.sleep(0.02)
    return seen


async def test_a_worker_that_polls_never_waits_in_redis_and_takes_what_comes(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon's second worker pauses between takes instead of waiting in Redis, where every
    waiting worker wakes for each request (services.idle_poll); it still takes each request."""
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch) as running:
        assert await blocked_in_redis(running) > 0  # the first worker waits in Redis
        intake = running.daemon.services.intake
        intake.limits = dataclasses.replace(intake.limits, idle_poll=0.02)
        await asyncio.sleep(0.6)  # a fetch waiting since before the change times out (0.5 s)
        before = await running.redis.redis.info("commandstats")
        assert await blocked_in_redis(running) == 0
        after = await running.redis.redis.info("commandstats")
        # It looks (LLEN, read-only) every 20 ms and takes (the script writes) only when there
        # is something: ~30 looks (queue and hand-off list) in those 0.6 s, no busy loop, no idle takes.
        looks = calls(after, "llen") - calls(before, "llen")
        assert 10 <= looks <= 200, looks  # two LLENs a look
        assert calls(after, "evalsha") - calls(before, "evalsha") < 10
        ids = [await running.push({"title": f"polled {i}"}) for i in range(20)]
        deadline = asyncio.get_running_loop().time() + 10
        while len(running.sink.received) < len(ids):
            assert asyncio.get_running_loop().time() < deadline, len(running.sink.received)
            await asyncio.sleep(0.02)
        await running.idle()
        statuses = await running.store.pool.fetch(
            "SELECT request_id, status FROM deliveries WHERE request_id = ANY($1::text[])", ids
        )
        assert sorted(r["request_id"] for r in statuses) == sorted(ids)
        assert {r["status"] for r in statuses} == {"delivered"}
