"""Producer queues: each consumed fairly beside the default queue, followed on reload, and a
request's producer known from the list it came from."""

from __future__ import annotations

import asyncio
import collections
import functools
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notifierd.intake.queues import Queues, Taken
from notifierd.redisio.keys import Keys
from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

WITH_PRODUCERS = ROUTES + "producers:\n  ci: {queue: true}\n  nightly: {queue: true}\n"


def request(rid: str) -> str:
    return json.dumps({"id": rid, "title": "t", "message": rid})


async def push(redis_prefix: RedisPrefix, queue: str, ids: list[str]) -> None:
    async with redis_prefix.redis.pipeline(transaction=False) as pipe:
        for rid in ids:
            pipe.lpush(queue, request(rid))
        await pipe.execute()


@pytest.fixture
async def queues(redis_prefix: RedisPrefix) -> AsyncIterator[Queues]:
    queues = Queues(redis_prefix.redis, Keys(redis_prefix.prefix), "replica")
    await queues.start(["ci", "nightly"])
    yield queues
    await queues.stop()


def ids(taken: list[Taken]) -> list[str]:
    return [json.loads(t.raw)["id"] for t in taken]


async def test_a_flood_on_one_queue_does_not_starve_the_others(
    redis_prefix: RedisPrefix, queues: Queues
) -> None:
    keys = Keys(redis_prefix.prefix)
    await push(redis_prefix, keys.producer_queue("ci"), [f"ci-{i}" for i in range(1000)])
    await push(redis_prefix, keys.queue, ["anon-0", "anon-1"])
    await push(redis_prefix, keys.producer_queue("nightly"), ["n-0", "n-1", "n-2"])

    first = await queues.fetch(10, timeout=0.1)

    taken = ids(first)
    assert len(taken) == 10
    assert {"anon-0", "anon-1", "n-0", "n-1", "n-2"} <= set(taken)  # behind 1000 of ci's
    assert [t for t in taken if t.startswith("ci-")] == [f"ci-{i}" for i in range(5)]  # FIFO
    by_queue = {json.loads(t.raw)["id"].split("-")[0]: t.consumer.producer for t in first}
    assert by_queue == {"ci": "ci", "anon": None, "n": "nightly"}


async def test_floods_on_every_queue_share_each_fetch_equally(
    redis_prefix: RedisPrefix, queues: Queues
) -> None:
    keys = Keys(redis_prefix.prefix)
    for queue, name in ((keys.queue, "anon"), (keys.producer_queue("ci"), "ci")):
        await push(redis_prefix, queue, [f"{name}-{i}" for i in range(100)])
    await push(redis_prefix, keys.producer_queue("nightly"), [f"n-{i}" for i in range(100)])

    counts: collections.Counter[str] = collections.Counter()
    for _ in range(6):
        counts.update(t.split("-")[0] for t in ids(await queues.fetch(9, timeout=0.1)))

    assert counts == {"anon": 18, "ci": 18, "n": 18}


async def test_an_empty_fetch_wakes_for_a_push_on_any_queue(
    redis_prefix: RedisPrefix, queues: Queues
) -> None:
    keys = Keys(redis_prefix.prefix)
    fetch = asyncio.create_task(queues.fetch(10, timeout=5))
    await asyncio.sleep(0.2)
    await push(redis_prefix, keys.producer_queue("nightly"), ["late"])
    started = asyncio.get_running_loop().time()
    assert ids(await fetch) == ["late"]
    assert asyncio.get_running_loop().time() - started < 2


async def test_every_producer_queue_is_consumed_and_each_request_knows_its_producer(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=WITH_PRODUCERS
    ):
        keys = running.daemon.services.keys
        await push(redis_prefix, keys.queue, ["from-anyone"])
        await push(redis_prefix, keys.producer_queue("ci"), ["from-ci"])
        await push(redis_prefix, keys.producer_queue("nightly"), ["from-nightly"])
        for rid, producer in (
            ("from-anyone", None),
            ("from-ci", "ci"),
            ("from-nightly", "nightly"),
        ):
            found = await running.status(rid)
            assert (found["status"], found["producer"]) == ("delivered", producer)
        assert sorted(r.json()["request_id"] for r in running.sink.received) == [
            "from-anyone",
            "from-ci",
            "from-nightly",
        ]


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_reload_starts_and_stops_consuming_producer_queues(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        redis = redis_prefix.redis
        ci = running.daemon.services.keys.of_producer("ci")
        await push(redis_prefix, ci.queue, ["before-reload"])
        await asyncio.sleep(1.0)
        assert await redis.llen(ci.queue) == 1  # not a configured producer queue yet

        await reload_with(running, WITH_PRODUCERS)
        found = await running.status("before-reload")
        assert (found["status"], found["producer"]) == ("delivered", "ci")

        await reload_with(running, ROUTES)
        # The dropped queue's consumer finishes and leaves the queue's registry ...
        await wait_for(functools.partial(_empty_set, running, ci.consumers))
        await push(redis_prefix, ci.queue, ["after-removal"])
        await asyncio.sleep(1.0)
        # ... and what is pushed there afterwards stays for the operator.
        assert await redis.lrange(ci.queue, 0, -1) == [request("after-removal").encode()]
        assert await running.store.request_status("after-removal") is None


async def _empty_set(running: Running, key: str) -> bool:
    return await running.redis.redis.scard(key) == 0


async def reload_with(running: Running, routes: str) -> None:
    (running.config / "routes.yaml").write_text(routes)
    assert await running.daemon.reload("test")


async def _alert(running: Running, key: str, status: str) -> dict[str, object]:
    found = None
    for _ in range(200):
        found = await running.daemon.services.alerts.store.show(key)
        if found is not None and found["status"] == status:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key} did not become {status}: {found}")


def alert_request(rid: str, key: str, action: str = "trigger") -> str:
    return json.dumps(
        {
            "id": rid,
            "kind": "alert",
            "action": action,
            "dedup_key": key,
            "title": key,
            "message": key,
        }
    )


async def test_a_producer_queue_opens_alerts_as_its_producer_and_closes_only_its_own(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=WITH_PRODUCERS
    ):
        keys = running.daemon.services.keys
        ci, nightly = keys.producer_queue("ci"), keys.producer_queue("nightly")
        await redis_prefix.redis.lpush(ci, alert_request("t1", "ci-build"))
        opened = await _alert(running, "ci-build", "triggered")
        assert opened["opened_by"] == "producer:ci"

        # Another producer's queue, and the default queue, may not close it ...
        await redis_prefix.redis.lpush(nightly, alert_request("a1", "ci-build", "acknowledge"))
        await redis_prefix.redis.lpush(keys.queue, alert_request("a2", "ci-build", "resolve"))
        for rid, actor in (("a1", "producer:nightly"), ("a2", "anonymous")):
            found = await running.status(rid, until=("refused",))
            assert found is not None and found["status"] == "refused", found
            assert actor in found["reason"], found
        assert (await _alert(running, "ci-build", "triggered"))["acknowledged_by"] is None

        # ... its own producer may, recorded as itself.
        await redis_prefix.redis.lpush(ci, alert_request("r1", "ci-build", "resolve"))
        resolved = await _alert(running, "ci-build", "resolved")
        assert resolved["resolved_by"] == "producer:ci"
