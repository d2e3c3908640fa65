"""The reliable consumer against a real Redis: FIFO, batches, ack, recovery, release, reject."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from notifierd.intake.consumer import Consumer, recover
from notifierd.redisio.keys import Keys, Scripts
from tests.integration.redis_fixtures import RedisPrefix, redis_prefix

__all__ = ["redis_prefix"]


def requests(n: int, tag: str = "r") -> list[bytes]:
    return [
        json.dumps({"id": f"{tag}{i}", "title": "t", "message": "m"}).encode() for i in range(n)
    ]


async def produce(env: RedisPrefix, keys: Keys, raws: list[bytes]) -> None:
    for raw in raws:  # one LPUSH each, as independent producers would
        await env.redis.lpush(keys.queue, raw)


async def started(env: RedisPrefix, keys: Keys, consumer_id: str, ttl: float = 15.0) -> Consumer:
    consumer = Consumer(env.redis, keys, consumer_id, heartbeat_ttl=ttl)
    await consumer.start()
    return consumer


async def crash(consumer: Consumer) -> None:
    """The process died: no more heartbeats, and its heartbeat key has expired."""
    task = consumer._heartbeat_task
    assert task is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.redis.delete(consumer.keys.heartbeat(consumer.id))


async def test_fetch_is_fifo_and_respects_max_items(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(7)
    await produce(redis_prefix, keys, raws)
    consumer = await started(redis_prefix, keys, "a")
    try:
        assert await consumer.fetch(3, timeout=0.1) == raws[:3]
        assert await consumer.fetch(10, timeout=0.1) == raws[3:]
        assert await consumer.queue_depth() == 0
        assert await consumer.processing_depth() == 7
        assert await consumer.pending() == raws
    finally:
        await consumer.ack(raws)
        await consumer.stop()


def calls(commandstats: dict[str, Any], command: str) -> int:
    return int(commandstats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_a_fetch_that_waits_is_one_round_trip(redis_prefix: RedisPrefix) -> None:
    """At a steady rate the queue is empty whenever a worker asks: its fetch is the wait with
    the take pipelined behind it, not first a take that finds nothing (a trip per request).
    With something queued the wait returns at once and its take takes, in the same trip."""
    keys = Keys(redis_prefix.prefix)
    consumer = await started(redis_prefix, keys, "a")
    raws = requests(3)
    try:
        before = await redis_prefix.redis.info("commandstats")
        waiting = asyncio.create_task(consumer.fetch(5, timeout=5))
        await asyncio.sleep(0.1)
        await produce(redis_prefix, keys, raws[:1])
        assert await waiting == raws[:1]
        await produce(redis_prefix, keys, raws[1:])
        assert await consumer.fetch(5, timeout=5) == raws[1:]
        after = await redis_prefix.redis.info("commandstats")
        assert calls(after, "blmove") - calls(before, "blmove") == 2
        assert calls(after, "evalsha") - calls(before, "evalsha") == 2
    finally:
        await consumer.ack(raws)
        await consumer.stop()


async def test_a_wait_longer_than_the_socket_timeout_is_not_a_timeout(
    redis_prefix: RedisPrefix,
) -> None:
    # The intake's idle wait blocks in Redis for 1.5 s; a client whose replies must come within
    # 0.5 s still waits it out: the wait's own time is added to the call's deadline.
    keys = Keys(redis_prefix.prefix)
    impatient = Redis.from_url(redis_prefix.url, socket_timeout=0.5)
    consumer = Consumer(impatient, keys, "a")
    await consumer.start()
    try:
        started_at = time.monotonic()
        assert await consumer.wait_and_take(10, timeout=1.5) == []
        assert time.monotonic() - started_at >= 1.4
        await produce(redis_prefix, keys, requests(1))
        assert await consumer.wait_and_take(10, timeout=1.5) == requests(1)
        await consumer.ack(requests(1))
    finally:
        await consumer.stop()
        await impatient.aclose()


async def test_fetch_waits_for_a_request_then_tops_up_the_batch(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    consumer = await started(redis_prefix, keys, "a")
    raws = requests(3)
    try:
        assert await consumer.fetch(5, timeout=0.2) == []

        async def later() -> None:
            await asyncio.sleep(0.1)
            # One MULTI: all three land before the blocked consumer wakes up.
            async with redis_prefix.redis.pipeline(transaction=True) as pipe:
                for raw in raws:
                    pipe.lpush(keys.queue, raw)
                await pipe.execute()

        producer = asyncio.create_task(later())
        assert await consumer.fetch(5, timeout=5) == raws
        await producer
    finally:
        await consumer.ack(raws)
        await consumer.stop()


async def test_concurrent_fetches_share_the_queue_without_overlap(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(300)
    await produce(redis_prefix, keys, raws)
    replicas = []
    for i in range(4):  # a client each: the batches really run side by side on the server
        replicas.append(Consumer(await redis_prefix.client(), keys, f"c{i}"))
        await replicas[-1].start()
    got: list[list[bytes]] = [[] for _ in replicas]

    async def drain(i: int) -> None:
        while batch := await replicas[i].fetch(7, timeout=0):
            assert batch == sorted(batch, key=raws.index)  # each batch in FIFO order
            got[i].extend(batch)

    await asyncio.gather(*(drain(i) for i in range(len(replicas))))
    taken = [raw for batch in got for raw in batch]
    assert sorted(taken) == sorted(raws)  # every request exactly once
    for consumer, mine in zip(replicas, got, strict=True):
        assert await consumer.ack(mine) == len(mine)
        assert await consumer.processing_depth() == 0
        await consumer.stop()


async def test_ack_removes_only_the_acknowledged(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(4)
    await produce(redis_prefix, keys, raws)
    consumer = await started(redis_prefix, keys, "a")
    batch = await consumer.fetch(4, timeout=0.1)
    assert await consumer.ack(batch[:3]) == 3
    assert await consumer.pending() == raws[3:]
    assert await consumer.ack(batch[3:]) == 1
    assert await consumer.ack(batch[3:]) == 0  # twice is harmless
    await consumer.stop()
    assert not await redis_prefix.redis.sismember(keys.consumers, "a")


async def test_stamp_replaces_a_held_request_where_it_lies_and_only_if_still_held(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = [b'{"title": "same"}', b'{"title": "same"}', b'{"title": "other"}']
    await produce(redis_prefix, keys, raws)
    consumer = await started(redis_prefix, keys, "a")
    batch = await consumer.fetch(3, timeout=0.1)
    # Two pushes of the same bytes are two requests: each copy takes its own id.
    one, two = b'{"id":"1","title": "same"}', b'{"id":"2","title": "same"}'
    assert await consumer.stamp([(batch[0], one), (batch[1], two)]) == [True, True]
    assert sorted(await consumer.pending()) == sorted([one, two, batch[2]])
    await redis_prefix.redis.lrem(keys.processing("a"), 0, batch[2])  # recovered meanwhile
    assert await consumer.stamp([(batch[2], b'{"id":"3","title": "other"}')]) == [False]
    assert await consumer.ack([one, two]) == 2
    assert await consumer.pending() == []
    await consumer.stop()


async def test_a_stamp_run_again_after_its_reply_was_lost_answers_as_the_first_run(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    await produce(redis_prefix, keys, [b'{"title": "same"}', b'{"title": "same"}'])
    consumer = await started(redis_prefix, keys, "a")
    batch = await consumer.fetch(2, timeout=0.1)
    one, two = b'{"id":"1","title": "same"}', b'{"id":"2","title": "same"}'
    pairs = [(batch[0], one), (batch[1], two)]
    # The first run replaced both in Redis; its answer never came back.
    stamp = Scripts.register(redis_prefix.redis).stamp
    assert await stamp(keys=[keys.processing("a")], args=[*pairs[0], *pairs[1]]) == [1, 1]
    assert await consumer.stamp(pairs) == [True, True]  # run again: still ours, not "gone"
    assert sorted(await consumer.pending()) == sorted([one, two])
    assert await consumer.ack([one, two]) == 2
    assert await consumer.pending() == []
    assert not [k async for k in redis_prefix.redis.scan_iter(match=keys.owner_prefix + "*")]
    await consumer.stop()


async def test_a_stamp_run_again_after_another_replica_recovered_it_answers_gone(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    await produce(redis_prefix, keys, [b'{"title": "late"}'])
    consumer = await started(redis_prefix, keys, "a")
    (raw,) = await consumer.fetch(1, timeout=0.1)
    stamped = b'{"id":"given","title": "late"}'
    # The first run stamped it, its answer was lost, and the consumer looked dead meanwhile:
    # another replica took the stamped copy back to the queue.
    stamp = Scripts.register(redis_prefix.redis).stamp
    assert await stamp(keys=[keys.processing("a")], args=[raw, stamped]) == [1]
    await crash(consumer)
    assert await recover(redis_prefix.redis, keys) == 1
    assert await consumer.stamp([(raw, stamped)]) == [False]  # neither form is ours now
    assert await redis_prefix.redis.lrange(keys.queue, 0, -1) == [stamped]


async def test_a_stamped_request_taken_again_after_recovery_leaves_no_owner_behind(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    await produce(redis_prefix, keys, [b'{"title": "no id"}'])
    consumer = await started(redis_prefix, keys, "a")
    (raw,) = await consumer.fetch(1, timeout=0.1)  # no id: no order key
    stamped = b'{"id":"given","title": "no id"}'
    assert await consumer.stamp([(raw, stamped)]) == [True]
    # Its heartbeat lapsed while it worked: recovered, then taken again, now with a key.
    await crash(consumer)
    assert await recover(redis_prefix.redis, keys) == 1
    await consumer.start()
    assert await consumer.fetch(1, timeout=0.1) == [stamped]
    assert await redis_prefix.redis.get(keys.owner_prefix + "id:given")
    # Both copies the worker had in hand are acknowledged: the key is given back.
    await consumer.ack([stamped])
    await consumer.ack([stamped])
    assert not await redis_prefix.redis.get(keys.owner_prefix + "id:given")
    assert await consumer.pending() == []
    await consumer.stop()


async def test_stop_keeps_a_consumer_that_still_holds_requests(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    await produce(redis_prefix, keys, requests(2))
    consumer = await started(redis_prefix, keys, "a", ttl=0.3)
    await consumer.fetch(2, timeout=0.1)
    await consumer.stop()
    assert await redis_prefix.redis.sismember(keys.consumers, "a")  # so recover() finds it
    await asyncio.sleep(0.4)  # heartbeat expires on its own
    assert await recover(redis_prefix.redis, keys) == 2
    assert await redis_prefix.redis.llen(keys.queue) == 2


async def test_heartbeat_keeps_a_live_consumer_safe_from_recovery(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    await produce(redis_prefix, keys, requests(3))
    alive = await started(redis_prefix, keys, "alive", ttl=0.3)
    held = await alive.fetch(3, timeout=0.1)
    await asyncio.sleep(1.0)  # several TTLs: only the heartbeat keeps the key
    assert await recover(redis_prefix.redis, keys) == 0
    assert await alive.pending() == held
    await alive.ack(held)
    await alive.stop()


async def test_recover_requeues_a_dead_consumers_requests_in_order(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(6)
    await produce(redis_prefix, keys, raws)
    a = await started(redis_prefix, keys, "a")
    assert await a.fetch(4, timeout=0.1) == raws[:4]
    await crash(a)

    b = await started(redis_prefix, keys, "b")
    assert await b.recover() == 4
    assert await b.recover() == 0
    assert not await redis_prefix.redis.sismember(keys.consumers, "a")
    assert await redis_prefix.redis.llen(keys.processing("a")) == 0
    # The recovered requests are next, in their original order, before the newer ones.
    assert await b.fetch(10, timeout=0.1) == raws
    await b.ack(raws)
    await b.stop()


async def test_concurrent_recovery_never_duplicates_or_loses(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    clients = [redis_prefix.redis, await redis_prefix.client(), await redis_prefix.client()]
    for round_ in range(40):
        raws = requests(9, tag=f"round{round_}-")
        await produce(redis_prefix, keys, raws)
        dead = []
        for i in range(3):
            consumer = await started(redis_prefix, keys, f"dead{round_}-{i}")
            await consumer.fetch(3, timeout=0.1)
            await crash(consumer)
            dead.append(consumer)

        moved = await asyncio.gather(*(recover(c, keys) for c in clients))
        assert sum(moved) == 9
        queued = await redis_prefix.redis.lrange(keys.queue, 0, -1)
        assert sorted(queued) == sorted(raws)
        for consumer in dead:
            assert await consumer.processing_depth() == 0
        await redis_prefix.redis.delete(keys.queue)
    assert await redis_prefix.redis.scard(keys.consumers) == 0


async def test_a_consumer_written_off_during_a_pause_registers_again_when_it_takes(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    consumer = await started(redis_prefix, keys, "paused")
    await redis_prefix.redis.delete(keys.heartbeat("paused"))  # the pause outlived the TTL
    assert await recover(redis_prefix.redis, keys) == 0
    assert not await redis_prefix.redis.sismember(keys.consumers, "paused")

    raws = requests(1)
    await produce(redis_prefix, keys, raws)
    assert await consumer.fetch(1, timeout=0.1) == raws
    # Registered and beating again, so what it now holds is recoverable if it dies.
    assert await redis_prefix.redis.sismember(keys.consumers, "paused")
    assert await redis_prefix.redis.exists(keys.heartbeat("paused"))
    await consumer.ack(raws)
    await consumer.stop()


async def test_restart_with_the_same_id_reclaims_pending(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(3)
    await produce(redis_prefix, keys, raws)
    first = await started(redis_prefix, keys, "worker-1")
    await first.fetch(3, timeout=0.1)
    await crash(first)

    again = await started(redis_prefix, keys, "worker-1")
    assert await recover(redis_prefix.redis, keys) == 0  # beating again: not recovered
    assert await again.pending() == raws
    assert await again.ack(raws) == 3
    await again.stop()


async def test_release_puts_requests_back_at_the_front(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(5)
    await produce(redis_prefix, keys, raws)
    consumer = await started(redis_prefix, keys, "a")
    batch = await consumer.fetch(3, timeout=0.1)
    await consumer.ack(batch[:1])
    assert await consumer.release(batch[1:]) == 2
    assert await consumer.processing_depth() == 0
    await consumer.stop()
    assert not await redis_prefix.redis.sismember(keys.consumers, "a")

    other = await started(redis_prefix, keys, "b")
    assert await other.fetch(10, timeout=0.1) == raws[1:]
    await other.ack(raws[1:])
    await other.stop()


async def test_release_after_recovery_does_not_duplicate(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = requests(2)
    await produce(redis_prefix, keys, raws)
    slow = await started(redis_prefix, keys, "slow")
    batch = await slow.fetch(2, timeout=0.1)
    await crash(slow)  # a long pause: another replica thinks it is dead
    assert await recover(redis_prefix.redis, keys) == 2
    assert await slow.release(batch) == 0
    assert await redis_prefix.redis.llen(keys.queue) == 2


async def test_reject_records_the_reason_and_releases_the_request(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    garbage = b"\xff\xfe not json"
    await produce(redis_prefix, keys, [b"{oops", garbage])
    consumer = await started(redis_prefix, keys, "a")
    bad_json, binary = await consumer.fetch(2, timeout=0.1)
    await consumer.reject(bad_json, "not valid JSON: Expecting property name at line 1, column 2")
    await consumer.reject(binary, "not UTF-8 text")
    assert await consumer.processing_depth() == 0
    assert await consumer.rejected_depth() == 2

    newest, oldest = (json.loads(r) for r in await redis_prefix.redis.lrange(keys.rejected, 0, -1))
    assert oldest["raw"] == "{oops"
    assert oldest["encoding"] == "utf-8"
    assert oldest["reason"].startswith("not valid JSON")
    assert oldest["rejected_at"].endswith("+00:00")
    assert newest["encoding"] == "base64"
    assert base64.b64decode(newest["raw"]) == garbage
    await consumer.stop()


async def test_queue_key_can_be_overridden(redis_prefix: RedisPrefix) -> None:
    keys = Keys(redis_prefix.prefix, queue=f"{redis_prefix.prefix}:custom-queue")
    raws = requests(1)
    await produce(redis_prefix, keys, raws)
    consumer = await started(redis_prefix, keys, "a")
    assert await consumer.fetch(1, timeout=0.1) == raws
    await consumer.ack(raws)
    await consumer.stop()


async def test_fetch_before_start_is_an_error(redis_prefix: RedisPrefix) -> None:
    consumer = Consumer(redis_prefix.redis, Keys(redis_prefix.prefix), "a")
    with pytest.raises(RuntimeError, match="start"):
        await consumer.fetch(1, timeout=0)


# -- order keys: one owner per alert (or request id) across consumers ----------------------------


async def owned_keys(env: RedisPrefix, keys: Keys) -> list[bytes]:
    """The owner strings left: none once every request is acknowledged or returned."""
    return [k async for k in env.redis.scan_iter(match=keys.owner_prefix + "*")]


def alert(request_id: str, key: str, action: str = "trigger") -> bytes:
    return json.dumps(
        {"id": request_id, "kind": "alert", "action": action, "dedup_key": key, "title": "t"}
    ).encode()


async def test_a_request_of_a_key_another_consumer_holds_goes_to_that_consumer(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    trigger, other, resolve = alert("t", "db"), alert("x", "web"), alert("r", "db", "resolve")
    a = await started(redis_prefix, keys, "a")
    b = await started(redis_prefix, keys, "b")
    await produce(redis_prefix, keys, [trigger])
    assert await a.fetch(10, timeout=0.1) == [trigger]  # a owns "db" now
    await produce(redis_prefix, keys, [other, resolve])
    # b takes what is free and hands the resolve of "db" to its owner, never processing it.
    assert await b.fetch(10, timeout=0.1) == [other]
    assert await a.fetch(10, timeout=0.1) == [resolve]
    assert await a.ack([trigger]) == 1
    third = alert("t2", "db")
    await produce(redis_prefix, keys, [third])
    assert await b.fetch(10, timeout=0.1) == []  # a still holds the resolve of "db"
    assert await a.fetch(10, timeout=0.1) == [third]
    assert await a.ack([resolve, third]) == 2
    fourth = alert("t3", "db")
    await produce(redis_prefix, keys, [fourth])
    assert await b.fetch(10, timeout=0.1) == [fourth]  # "db" is free again: b may own it
    await b.ack([other, fourth])
    for consumer in (a, b):
        await consumer.stop()
    assert await owned_keys(redis_prefix, keys) == []


async def test_the_same_request_id_pushed_twice_goes_to_one_consumer(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    [raw] = requests(1)
    a = await started(redis_prefix, keys, "a")
    b = await started(redis_prefix, keys, "b")
    await produce(redis_prefix, keys, [raw])
    assert await a.fetch(1, timeout=0.1) == [raw]
    await produce(redis_prefix, keys, [raw])  # a producer retried its push
    assert await b.fetch(1, timeout=0.1) == []
    assert await a.fetch(1, timeout=0.1) == [raw]
    assert await a.ack([raw, raw]) == 2
    for consumer in (a, b):
        await consumer.stop()


async def test_recovering_a_dead_owner_keeps_its_keys_requests_in_queue_order(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    first, second, third = alert("1", "db"), alert("2", "db", "resolve"), alert("3", "db")
    a = await started(redis_prefix, keys, "a")
    b = await started(redis_prefix, keys, "b")
    await produce(redis_prefix, keys, [first])
    assert await a.fetch(10, timeout=0.1) == [first]
    await produce(redis_prefix, keys, [second, third])
    assert await b.fetch(10, timeout=0.1) == []  # both handed to a, which then dies
    await crash(a)
    assert await recover(redis_prefix.redis, keys) == 3
    # Back in queue order, and "db" is free: whoever takes them next owns it.
    assert await b.fetch(10, timeout=0.1) == [first, second, third]
    await b.ack([first, second, third])
    await b.stop()
    assert await owned_keys(redis_prefix, keys) == []


async def test_release_at_shutdown_returns_handed_over_requests_behind_the_others(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    first, second, free = alert("1", "db"), alert("2", "db", "resolve"), alert("9", "web")
    a = await started(redis_prefix, keys, "a")
    b = await started(redis_prefix, keys, "b")
    await produce(redis_prefix, keys, [first])
    assert await a.fetch(10, timeout=0.1) == [first]
    await produce(redis_prefix, keys, [second, free])
    assert await b.fetch(10, timeout=0.1) == [free]
    assert await a.release([first]) == 2  # stopping: its own and the one handed to it
    await a.stop()
    assert await b.fetch(10, timeout=0.1) == [first, second]
    await b.ack([free, first, second])
    await b.stop()


async def test_consumers_of_another_queue_never_recover_ours(redis_prefix: RedisPrefix) -> None:
    ours = Keys(redis_prefix.prefix, queue=f"{redis_prefix.prefix}:team-a")
    theirs = Keys(redis_prefix.prefix, queue=f"{redis_prefix.prefix}:team-b")
    raws = requests(3)
    await produce(redis_prefix, ours, raws)
    dead = await started(redis_prefix, ours, "dead")
    assert await dead.fetch(3, timeout=0.1) == raws
    await crash(dead)
    assert await recover(redis_prefix.redis, theirs) == 0  # another deployment's replica
    assert await redis_prefix.redis.llen(theirs.queue) == 0
    assert await recover(redis_prefix.redis, ours) == 3  # one of ours puts them back where
    assert await redis_prefix.redis.lrange(ours.queue, 0, -1) == raws[::-1]  # they came from


@pytest.mark.parametrize(
    "first",
    [
        alert("big", "db")[:-1] + b', "message": "' + b"x" * 200_000 + b'"}',
        b"\xef\xbb\xbf" + alert("bom", "db"),
    ],
    ids=["200-kB request", "UTF-8 BOM"],
)
async def test_large_or_bom_requests_keep_their_alerts_order(
    redis_prefix: RedisPrefix, first: bytes
) -> None:
    keys = Keys(redis_prefix.prefix)
    resolve = alert("r", "db", "resolve")
    a = await started(redis_prefix, keys, "a")
    b = await started(redis_prefix, keys, "b")
    await produce(redis_prefix, keys, [first])
    assert await a.fetch(10, timeout=0.1) == [first]
    await produce(redis_prefix, keys, [resolve])
    assert await b.fetch(10, timeout=0.1) == []  # a holds "db": the resolve goes to a
    assert await a.fetch(10, timeout=0.1) == [resolve]
    assert await a.ack([first, resolve]) == 2
    for consumer in (a, b):
        await consumer.stop()
    assert await owned_keys(redis_prefix, keys) == []


async def test_acknowledging_a_request_taken_before_a_restart_still_frees_its_key(
    redis_prefix: RedisPrefix,
) -> None:
    """A consumer that does not know a request's key (taken by an earlier process with its id)
    has the script decode it when it acknowledges."""
    keys = Keys(redis_prefix.prefix)
    first = alert("1", "db")
    await produce(redis_prefix, keys, [first])
    before = await started(redis_prefix, keys, "a")
    assert await before.fetch(1, timeout=0.1) == [first]
    assert before._heartbeat_task is not None
    before._heartbeat_task.cancel()  # that process is gone
    after = await started(redis_prefix, keys, "a")  # a new one, with the same consumer id
    assert await after.ack([first]) == 1
    assert await owned_keys(redis_prefix, keys) == []
    await after.stop()


async def test_a_fetch_that_waited_gives_back_what_it_took_when_the_caller_filled_up(
    redis_prefix: RedisPrefix,
) -> None:
    """The take is pipelined behind the wait; if the caller is no longer ready once woken,
    what it took goes back to the consuming end, to be taken next."""
    keys = Keys(redis_prefix.prefix)
    consumer = await started(redis_prefix, keys, "a")
    raws = requests(2)
    try:

        async def later() -> None:
            await asyncio.sleep(0.1)
            await produce(redis_prefix, keys, raws[:1])

        producer = asyncio.create_task(later())
        assert await consumer.fetch(5, timeout=5, ready=lambda: False) == []
        await producer
        assert await consumer.processing_depth() == 0
        await produce(redis_prefix, keys, raws[1:])
        assert await consumer.fetch(5, timeout=0.1) == raws  # the one given back first
    finally:
        await consumer.ack(raws)
        await consumer.stop()


async def test_a_wait_takes_even_when_redis_forgot_the_fetch_script(
    redis_prefix: RedisPrefix,
) -> None:
    keys = Keys(redis_prefix.prefix)
    consumer = await started(redis_prefix, keys, "a")
    raws = requests(1)
    try:
        # As after a Redis restart: the script's SHA names nothing the server knows.
        consumer._scripts.fetch_batch.sha = "0" * 40

        async def later() -> None:
            await asyncio.sleep(0.1)
            await produce(redis_prefix, keys, raws)

        producer = asyncio.create_task(later())
        assert await consumer.wait_and_take(5, timeout=5) == raws
        await producer
        assert await consumer.pending() == raws
    finally:
        await consumer.ack(raws)
        await consumer.stop()
