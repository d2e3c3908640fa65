"""The recorder against real Postgres and Redis: batches written, then acknowledged; a request
whose rows Postgres refuses joins the dead-letter queue whole instead of holding its batch."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from notifierd.intake.consumer import Consumer
from notifierd.pipeline.outcome import Processed
from notifierd.pipeline.recorder import Recorder
from notifierd.redisio.keys import Keys
from notifierd.store.db import Store
from notifierd.store.records import DeliveryRecord, RequestRecord
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[Store]:
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    try:
        yield store
    finally:
        await store.close()


def routed(request_id: str, payload: str | None = None) -> Processed:
    record = RequestRecord(
        id=request_id,
        kind="notification",
        outcome="routed",
        payload=payload or json.dumps({"id": request_id, "title": "t", "message": "m"}),
        received_at=datetime.now(UTC),
    )
    return Processed(record, [DeliveryRecord(request_id, "sink", "webhook", "", "delivered", 1)])


async def test_a_refused_request_is_dead_lettered_and_its_batch_recorded(
    store: Store, redis_prefix: RedisPrefix
) -> None:
    keys = Keys(redis_prefix.prefix)
    raws = [json.dumps({"id": rid}).encode() for rid in ("ok-1", "bad", "ok-2")]
    await redis_prefix.redis.lpush(keys.queue, *raws)
    consumer = Consumer(redis_prefix.redis, keys, "c")
    await consumer.start()
    assert await consumer.fetch(3, timeout=0.1) == raws
    recorder = Recorder(store, max_wait=0.05)
    recorder.start()
    try:
        # "bad" carries a payload Postgres cannot store as JSON: a refusal, not an outage.
        await asyncio.gather(
            recorder.submit(raws[0], routed("ok-1"), consumer),
            recorder.submit(raws[1], routed("bad", payload="{not json"), consumer),
            recorder.submit(raws[2], routed("ok-2"), consumer),
        )
    finally:
        await recorder.stop()
    assert await consumer.processing_depth() == 0  # every outcome durable, every request acked
    ok = await store.request_status("ok-1")
    assert ok is not None and ok["status"] == "delivered"
    bad = await store.request_status("bad")
    assert bad is not None and bad["outcome"] == "error"
    assert bad["reason"].startswith("its records could not be stored: ")
    [letter] = await store.dlq_list(None, 10)
    assert (letter.kind, letter.request_id) == ("request", "bad")
    raw = await store.pool.fetchval("SELECT raw FROM dead_requests WHERE request_id = 'bad'")
    assert raw.encode() == raws[1]  # kept whole: `dlq retry` puts exactly this back
    await consumer.stop()
