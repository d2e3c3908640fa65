"""The record stage: batches outcomes into one Postgres transaction, then acks them in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from notifierd import metrics
from notifierd.pipeline.outcome import Processed
from notifierd.reconnect import always, until_done
from notifierd.redisio.keys import Keys
from notifierd.status import FINAL_DELIVERY_STATUSES
from notifierd.store.db import Store, is_transient, storable_text
from notifierd.store.records import DeadRequest, DeliveryRecord, RequestRecord

log = logging.getLogger("notifierd.record")


class Acknowledger(Protocol):
    """What the record stage needs of the consumer a request was taken by: to acknowledge
    requests whose outcome is durable, and the name of their queue (a dead letter says where to
    replay it)."""

    keys: Keys

    async def ack(self, raws: Sequence[bytes]) -> int: ...


@dataclass
class _Item:
    """A request's outcome (to acknowledge on ``source`` once written), or one delivery of a
    request still under way, recorded as soon as it finished (``raw``, ``processed``, ``source``
    and ``done`` None)."""

    raw: bytes | None
    processed: Processed | None
    source: Acknowledger | None = None
    done: asyncio.Future[None] | None = None
    delivery: DeliveryRecord | None = None


def merge(
    items: list[_Item],
) -> tuple[list[RequestRecord], list[DeliveryRecord], list[DeadRequest]]:
    """One row per request and per (request, channel, recipient): Postgres cannot upsert a row twice
    in one statement, and a replayed request may share a batch with its first run."""
    requests: dict[str, RequestRecord] = {}
    deliveries: dict[tuple[str, str, str], DeliveryRecord] = {}
    dead: dict[str, DeadRequest] = {}
    for item in items:
        rows = [item.delivery] if item.delivery is not None else []
        if item.processed is not None:
            requests[item.processed.request.id] = item.processed.request
            if item.processed.dead is not None:
                dead[item.processed.request.id] = item.processed.dead
            rows = item.processed.deliveries
        for d in rows:
            key = (d.request_id, d.channel, d.recipient)
            kept = deliveries.get(key)
            if kept is None or kept.status not in FINAL_DELIVERY_STATUSES:
                deliveries[key] = d
    return list(requests.values()), list(deliveries.values()), list(dead.values())


class Recorder:
    """``await submit(raw, processed, source)`` returns once the outcome is durable and the raw
    acknowledged on ``source``, the consumer that took it."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 500,
        max_wait: float = 0.005,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recorder")

    async def submit(self, raw: bytes, processed: Processed, source: Acknowledger) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(raw, processed, source, done))  # in-flight requests are capped
        # Cancelling the waiter cancels only ``done``: the item stays queued and is written.
        await done

    def record(self, delivery: DeliveryRecord) -> None:
        """Record one delivery of a request still under way as soon as it finished: if the
        request is returned to the queue (shutdown) or taken again (a crash), its replay sends
        only what is not on record yet."""
        self._queue.put_nowait(_Item(None, None, delivery=delivery))

    async def drain(self) -> None:
        """Wait until everything handed over so far is written."""
        await self._queue.join()

    async def stop(self) -> None:
        """Flush what was submitted, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            items = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + self.max_wait
            while len(items) < self.max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    remaining = deadline - asyncio.get_running_loop().time()
                    if remaining <= 0:
                        break
                    try:
                        items.append(await asyncio.wait_for(self._queue.get(), remaining))
                    except TimeoutError:
                        break
            await self._flush(items)
            for _ in items:
                self._queue.task_done()

    async def _flush(self, items: list[_Item]) -> None:
        durable = await self._write(items)
        by_source: dict[Acknowledger, list[bytes]] = {}
        for item in durable:
            if item.raw is not None and item.source is not None:
                by_source.setdefault(item.source, []).append(item.raw)
        for source, raws in by_source.items():
            # Durable already: a replay after a failure here would be idempotent, but keep trying.
            await until_done(
                functools.partial(source.ack, raws),
                what=f"acknowledging {len(raws)} request(s) in Redis",
                retry_if=always,
                logger=log,
                event="redis_unavailable",
            )
        for item in items:
            if item.done is not None and not item.done.done():
                item.done.set_result(None)

    async def _write(self, items: list[_Item]) -> list[_Item]:
        """Write a batch; retry while Postgres is unreachable, isolate rows it refuses.

        Returns the items now durable: all of them, but for one whose request Postgres refuses
        even as a placeholder (it stays in Redis, unacknowledged, for a person to look at)."""
        requests, deliveries, dead = merge(items)
        try:  # never drop: an outcome not written keeps its request in Redis
            await until_done(
                lambda: self.store.write_batch(requests, deliveries, dead),
                what=f"writing {len(items)} outcome(s) to Postgres",
                retry_if=is_transient,
                logger=log,
                event="store_unavailable",
            )
            return items
        except Exception as exc:
            refused = exc
        if len(items) > 1:  # one bad row must not hold the others back: write them one by one
            return [done for item in items for done in await self._write([item])]
        [item] = items
        if item.processed is None or item.raw is None or item.source is None:
            # a delivery recorded ahead of its request
            assert item.delivery is not None
            log.error("Postgres refused delivery %s: %s", item.delivery.id, refused)
            return []
        # Postgres refuses this request's rows: it joins the dead-letter queue whole (the raw
        # request, replayable), under a placeholder row that says why, instead of looping.
        rec = item.processed.request
        reason = f"its records could not be stored: {refused}"[:2000]
        log.error(
            "Postgres refused the records of request %s: %s",
            rec.id,
            refused,
            extra={"request_id": rec.id, "event": "store_refused"},
        )
        metrics.DEAD_REQUESTS.inc()
        placeholder = RequestRecord(
            id=rec.id,
            kind=rec.kind,
            outcome="error",
            payload=json.dumps({"id": rec.id}),
            received_at=rec.received_at,
            snapshot_id=rec.snapshot_id,
            reason=reason,
        )
        letter = DeadRequest(rec.id, item.source.keys.queue, storable_text(item.raw), reason)
        # What was sent stays on record, so that `dlq retry` does not send it again.
        for delivery in item.processed.deliveries:
            try:
                await self.store.write_batch([], [delivery])
            except Exception as exc:
                log.error(
                    "Postgres refused delivery %s of request %s: %s", delivery.id, rec.id, exc
                )
        try:
            await until_done(
                lambda: self.store.write_batch([placeholder], [], [letter]),
                what=f"writing the placeholder of request {rec.id}",
                retry_if=is_transient,
                logger=log,
            )
            return items
        except Exception as again:
            log.error(
                "could not store even a placeholder for request %s, left in Redis: %s",
                rec.id,
                again,
                extra={"request_id": rec.id, "event": "store_refused"},
            )
            return []
