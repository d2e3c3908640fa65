"""The intake stage: take requests from the queue, process each, hand its outcome to the recorder.

Requests of one order key (``Request.order_key``: an alert, or one request id) run one after
another in queue order; the consumer keeps that order across replicas. A failure of Redis or
Postgres while a request is processed is never its outcome: the request is processed again after
a pause, as a restart would. Any other failure (a bug) sends the request, whole and replayable,
to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifierd import metrics
from notifierd.active import Active
from notifierd.intake.consumer import Consumer, kept_prefix
from notifierd.intake.parse import Rejection, given_id, parse_request, with_id
from notifierd.intake.queues import Queues, Taken, producer_queues
from notifierd.pipeline.deliver import Waits
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.outcome import Known, Processed, request_payload
from notifierd.pipeline.processor import Processor
from notifierd.pipeline.recorder import Recorder
from notifierd.reconnect import Backoff, always, until_done
from notifierd.redisio.connect import redis_transient
from notifierd.request import Request
from notifierd.store.db import Store, is_transient, storable_text
from notifierd.store.records import DeadRequest, RequestRecord

log = logging.getLogger("notifierd.intake")

# A request's delivery waits for rate-limit quota in memory (the intake takes less while many
# wait), but not long for a free send slot: a channel whose sends are all under way (a receiver
# that hangs) must not hold the intake's slots in front of other channels' requests.
WAITS = Waits(send_slot=1.0)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """How much the intake holds at once; beyond it, requests wait in Redis (backpressure)."""

    batch: int = 100  # requests taken per Redis call
    # Requests being processed at once (one per order key; taken and not yet recorded):
    # enough to cover latency.
    max_in_flight: int = 512  # as Options' (see there)
    # Requests taken that only wait for an earlier request of their order key to be recorded,
    # by count and by their bytes (a request may be 1 MiB). Apart from max_in_flight, so that
    # one alert's chain (an Alertmanager group's members) cannot hold every slot while other
    # alerts' first requests, which page, wait in Redis behind it.
    max_waiting_in_order: int = 2048
    max_waiting_bytes: int = 64 << 20
    # Deliveries started and not finished (most of them waiting for rate-limit quota): one
    # request may fan out to hundreds, so requests alone do not bound the memory they hold.
    max_waiting_deliveries: int = 4096
    # A request hit by a Redis or Postgres failure is processed again after this pause,
    # doubled each time up to the maximum.
    retry_initial: float = 0.2
    retry_max: float = 10.0
    # None: an empty queue is waited on in Redis (a blocking call that returns the moment a
    # request comes). Else how long to pause before taking again: for the second and later
    # workers of one daemon. Every process blocked on a queue wakes for each request pushed and
    # one takes it; at 500 requests/s the others' wakes, and their takes that found nothing,
    # cost two workers ~1 ms of p99 against one (bench/README.md). A worker that polls finds a
    # burst within the pause and then takes without pausing while there is something to take;
    # it looks (LLEN, read-only) before it takes.
    # On a machine with no core to spare, a second waiter sometimes answers first: there the
    # trade goes the other way (bench/README.md measures both).
    idle_poll: float | None = None


class Intake:
    """``run(stopping)`` takes and processes until ``stopping`` is set; ``finish`` then waits for
    (or returns to the queue) what is still in flight."""

    def __init__(
        self,
        queues: Queues,
        store: Store,
        processor: Processor,
        recorder: Recorder,
        active: Callable[[], Active],
        clock: Clock,
        *,
        limits: IntakeLimits = IntakeLimits(),
        hold_back: Callable[[], bool] = lambda: False,
        waiting_deliveries: Callable[[], int] = lambda: 0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.queues = queues
        self.store = store
        self.processor = processor
        self.recorder = recorder
        self.active = active
        self.clock = clock
        self.limits = limits
        self.hold_back = hold_back  # True while overdue escalations go first
        self.waiting_deliveries = waiting_deliveries
        self._sleep = sleep
        self._inflight: dict[asyncio.Task[None], Taken] = {}
        self._by_key: dict[str, asyncio.Task[None]] = {}
        # Those of _inflight that wait for the one before them of their order key (its size),
        # and which waits for which: a request counts as processed once the one before finished.
        self._waiting: dict[asyncio.Task[None], int] = {}
        self._waiting_bytes = 0
        self._next: dict[asyncio.Task[None], asyncio.Task[None]] = {}
        self._submitted: set[asyncio.Task[None]] = set()  # outcome handed to the recorder
        # A fetch failed: what it may have taken (its reply lost) is looked for before the next.
        self._adopt = False
        self._backoff = Backoff(sleep=sleep)
        self._slot = asyncio.Event()
        self._snapshot: object = None  # the config whose producer queues are consumed

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    @property
    def processing(self) -> int:
        """Requests taken that are processed (at most one per order key), not waiting."""
        return len(self._inflight) - len(self._waiting)

    @property
    def waiting_in_order(self) -> int:
        """Requests taken that wait for an earlier request of their order key to be recorded."""
        return len(self._waiting)

    def wake(self) -> None:
        """Stop waiting for a free slot (the daemon is stopping)."""
        self._slot.set()

    async def start(self) -> int:
        """Start consuming every queue the active config names; returns how many requests went
        back onto their queues (see ``Queues.start``). Then ``run``."""
        snapshot = self.active().snapshot
        recovered = await self.queues.start(producer_queues(snapshot))
        self._snapshot = snapshot
        return recovered

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self._follow_config()
            if self.hold_back():
                await asyncio.sleep(0.02)  # overdue escalations first; requests wait in Redis
                continue
            if not self._room_for_deliveries():
                await asyncio.sleep(0.05)  # quota frees up at its own pace; take no more now
                continue
            free = self._free()
            if free <= 0:
                self._slot.clear()
                await self._slot.wait()
                continue
            taken = await until_done(
                functools.partial(self._take, min(free, self.limits.batch)),
                what="taking requests from Redis",
                retry_if=always,
                backoff=self._backoff,
                logger=log,
                event="redis_unavailable",
            )
            if taken:
                try:
                    await self._dispatch(taken)
                except asyncio.CancelledError:
                    # Stopped before its requests were handed on (waiting out Redis for their
                    # ids, say): they are in our list, and ``finish`` gives them back.
                    self._adopt = True
                    raise
                except Exception:  # the loop must go on; what it took is in our list
                    log.exception("dispatching %d request(s) failed", len(taken))
                    self._adopt = True
                # The requests just dispatched run to their sends before the next fetch is
                # built and written (~0.1 ms of each request's latency at a steady rate).
                await asyncio.sleep(0)

    async def _follow_config(self) -> None:
        """After a reload: consume the producer queues the config now names, and stop the
        consumers of dropped ones once what they hold is finished."""
        snapshot = self.active().snapshot
        if snapshot is not self._snapshot:
            await until_done(
                lambda: self.queues.follow(producer_queues(snapshot)),
                what="following the config's producer queues",
                retry_if=always,
                backoff=self._backoff,
                logger=log,
                event="redis_unavailable",
            )
            self._snapshot = snapshot
        if self.queues.retired:
            await until_done(
                lambda: self.queues.close_retired(self._busy),
                what="stopping the consumers of dropped producer queues",
                retry_if=always,
                backoff=self._backoff,
                logger=log,
                event="redis_unavailable",
            )

    def _busy(self, consumer: Consumer) -> bool:
        return any(t.consumer is consumer for t in self._inflight.values())

    async def _take(self, n: int) -> list[Taken]:
        """A fetch, after taking up what an earlier one took whose reply was lost: those are
        older than anything taken after them, so they go first."""
        if self._adopt:
            await self._adopt_orphans()
            self._adopt = False
        poll = self.limits.idle_poll
        if poll is not None and not await self.queues.anything_to_take():
            await self._sleep(poll)
            return []
        self._adopt = True  # until the fetch's reply is here
        taken = await self.queues.fetch(
            n, timeout=0.5 if poll is None else 0.0, ready=self._room_for_deliveries
        )
        self._adopt = False
        if not taken and poll is not None:  # all of it handed to its owners
            await self._sleep(poll)
        return taken

    async def _adopt_orphans(self) -> None:
        """Process what our processing list holds that nothing here works on: requests a fetch
        took whose reply was lost (a connection cut mid-call). They are older than anything
        fetched after, so they go first; left alone they would hold their alert's key while
        its later requests are processed."""
        orphans = await self._orphans(self._inflight.values())
        if orphans:
            log.warning(
                "taking up %d request(s) a failed fetch took",
                len(orphans),
                extra={"event": "adopted"},
            )
            await self._dispatch(orphans)

    async def _orphans(self, accounted: Iterable[Taken]) -> list[Taken]:
        """What our processing lists hold beyond ``accounted`` (each counted once)."""
        in_flight = collections.Counter(accounted)
        orphans = []
        for consumer in self.queues.holding:
            for raw in await consumer.pending():
                taken = Taken(raw, consumer)
                if in_flight[taken] > 0:
                    in_flight[taken] -= 1
                else:
                    orphans.append(taken)
        return orphans

    def _free(self) -> int:
        """How many requests to take at most: each may be processed at once or wait behind an
        earlier one of its order key, so as many as both bounds allow."""
        if self._waiting_bytes >= self.limits.max_waiting_bytes:
            return 0
        return min(
            self.limits.max_in_flight - self.processing,
            self.limits.max_waiting_in_order - self.waiting_in_order,
        )

    def _room_for_deliveries(self) -> bool:
        return self.waiting_deliveries() < self.limits.max_waiting_deliveries

    async def finish(self, timeout: float) -> int:
        """Wait up to ``timeout`` s for the requests in flight; return the rest to the queue,
        with whatever other consumers handed to us. Returns how many went back."""
        unfinished_taken: list[Taken] = []
        drained = True
        if self._inflight:
            _, pending = await asyncio.wait(list(self._inflight), timeout=timeout)
            # One handed to the recorder is written and acknowledged by it (the recorder stops
            # after us): returned too, it would be taken and sent again.
            # In the order taken, which is queue order: given back so, an alert's requests
            # are taken again in their order (``pending`` is a set, in no order).
            unfinished = [t for t in self._inflight if t in pending and t not in self._submitted]
            unfinished_taken = [self._inflight[t] for t in unfinished]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        if unfinished_taken or self._adopt:
            # Their deliveries that did finish are on their way to Postgres: written (and
            # their requests acknowledged) before anything goes back, so whoever takes one next
            # sends only what is left.
            try:
                await asyncio.wait_for(self.recorder.drain(), timeout)
            except TimeoutError:
                log.error("the records of returned requests are not all written yet")
                drained = False
        if self._adopt and drained:
            # The intake was cancelled while a fetch's reply was on its way: Redis had already
            # taken what it answered into our list. Given back after the rest (they were taken
            # last); only once every finished delivery is recorded, so none is sent again.
            unfinished_taken += await self._orphans([*self._inflight.values(), *unfinished_taken])
        released = 0
        for consumer in self.queues.holding:
            raws = [t.raw for t in unfinished_taken if t.consumer is consumer]
            released += await consumer.release(raws)
        if unfinished_taken:
            log.warning(
                "returned %d unfinished request(s) to the queue",
                len(unfinished_taken),
                extra={"event": "released"},
            )
        return released

    async def _dispatch(self, batch: list[Taken]) -> None:
        received_at = self.clock()
        requests: list[tuple[Taken, Request]] = []
        for taken in batch:
            parsed = parse_request(taken.raw, taken.consumer.producer)
            if isinstance(parsed, Rejection):
                await self._reject(taken, parsed.reason)
            else:
                requests.append((taken, parsed))
        if any(not given_id(r) for _, r in requests):
            requests = await self._stamp(requests)
        if not requests:
            return
        known: Known | None
        try:
            known = await self._known([r.id for _, r in requests])
        except Exception:  # not Redis or Postgres away: each request finds out for itself
            log.exception("reading what %d request(s) already delivered failed", len(requests))
            known = None
        for taken, request in requests:
            key = request.order_key
            previous = self._by_key.get(key)
            task = asyncio.create_task(self._handle(taken, request, received_at, known, previous))
            self._inflight[task] = taken
            self._by_key[key] = task
            if previous is not None:
                self._next[previous] = task
                self._waiting[task] = len(taken.raw)
                self._waiting_bytes += len(taken.raw)
            task.add_done_callback(functools.partial(self._finished, key))
        metrics.IN_FLIGHT.set(len(self._inflight))

    async def _stamp(self, requests: list[tuple[Taken, Request]]) -> list[tuple[Taken, Request]]:
        """Write the id generated for each request pushed without one into its held copy in
        Redis, before anything is sent: taken again after a crash, it is the same request, and
        what it delivered is not sent twice. One no longer held is left to whoever holds it."""
        out: list[tuple[Taken, Request] | None] = list(requests)
        # By position: two pushes of the same bytes are two requests, each with its own id.
        stamping: dict[Consumer, list[tuple[int, bytes]]] = {}
        for i, (taken, request) in enumerate(requests):
            if not given_id(request) and (raw := with_id(taken.raw, request.id)) is not None:
                stamping.setdefault(taken.consumer, []).append((i, raw))
        gone = 0
        for consumer, items in stamping.items():
            pairs = [(requests[i][0].raw, raw) for i, raw in items]
            # Nothing is sent before the ids are in Redis: while it is away, this waits as the
            # take does (a run again after a lost reply answers as the first did).
            stamped = await until_done(
                functools.partial(consumer.stamp, pairs),
                what="writing the ids given to requests pushed without one",
                retry_if=redis_transient,
                backoff=self._backoff,
                logger=log,
                event="redis_unavailable",
            )
            for (i, raw), held in zip(items, stamped, strict=True):
                out[i] = (Taken(raw, consumer), requests[i][1]) if held else None
                gone += not held
        if gone:
            log.warning(
                "%d request(s) taken were requeued by another replica meanwhile: left to it",
                gone,
                extra={"event": "requeued_meanwhile"},
            )
        return [r for r in out if r is not None]

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        # The next of its order key is processed from now on: in the same step, so that a
        # fetch in between cannot count one slot as free twice.
        following = self._next.pop(task, None)
        if following is not None:
            self._done_waiting(following)
        self._done_waiting(task)  # cancelled while it waited (shutdown)
        self._inflight.pop(task, None)
        self._submitted.discard(task)
        if self._by_key.get(key) is task:
            del self._by_key[key]
        self._slot.set()

    def _done_waiting(self, task: asyncio.Task[None]) -> None:
        size = self._waiting.pop(task, None)
        if size is not None:
            self._waiting_bytes -= size

    async def _known(self, ids: list[str]) -> Known:
        return await until_done(
            lambda: self.store.known_deliveries(ids),
            what="reading what requests already delivered",
            retry_if=infrastructure_failure,
            backoff=self._backoff,
            logger=log,
            event="store_unavailable",
        )

    async def _handle(
        self,
        taken: Taken,
        request: Request,
        received_at: datetime,
        known: Known | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None:
            # The same order key earlier in the queue: run after it, on what it recorded.
            await asyncio.gather(previous, return_exceptions=True)
            known = None
        active = self.active()  # a request keeps the snapshot it started with, retries too
        stream = self.recorder.record

        async def process() -> Processed:
            nonlocal known
            if known is None:
                known = await self._known([request.id])
            try:
                return await self.processor.process(
                    active, request, received_at, known, stream=stream, waits=WAITS
                )
            except Exception:
                known = None  # what the failed run recorded counts: read it again
                raise

        try:
            processed = await until_done(
                process,
                what=f"processing request {request.id}",
                retry_if=infrastructure_failure,
                backoff=Backoff(self.limits.retry_initial, self.limits.retry_max, self._sleep),
                logger=log,
                event="processing_retry",
                on_retry=lambda _: metrics.INFRA_RETRIES.inc(),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            processed = self._dead(taken, request, received_at, active, exc)
        task = asyncio.current_task()
        if task is not None:
            self._submitted.add(task)
        await self.recorder.submit(taken.raw, processed, taken.consumer)

    def _dead(
        self, taken: Taken, request: Request, received_at: datetime, active: Active, exc: Exception
    ) -> Processed:
        """A bug must neither crash the daemon nor loop the request: dead-letter it, whole."""
        reason = f"internal error: {type(exc).__name__}: {exc}"[:2000]
        log.error(
            "processing failed; the request is in the dead-letter queue",
            exc_info=exc,
            extra={"request_id": request.id, "event": "processing_error"},
        )
        metrics.REQUESTS_BY("error").inc()
        metrics.DEAD_REQUESTS.inc()
        record = RequestRecord(
            id=request.id,
            kind=request.kind,
            outcome="error",
            payload=request_payload(request),
            received_at=received_at,
            reason=reason,
            snapshot_id=active.id,
            producer=request.producer,
        )
        queue = taken.consumer.keys.queue
        letter = DeadRequest(request.id, queue, storable_text(taken.raw), reason)
        return Processed(record, dead=letter)

    async def _reject(self, taken: Taken, reason: str) -> None:
        raw = taken.raw
        metrics.REJECTED.inc()
        log.warning("rejected a request: %s", reason, extra={"event": "rejected"})
        try:
            await until_done(
                lambda: self.store.record_rejected(
                    storable_text(kept_prefix(raw)), reason, len(raw)
                ),
                what="recording a rejected request",
                retry_if=is_transient,
                backoff=self._backoff,
                logger=log,
            )
        except Exception as exc:  # the Redis rejected list still keeps it
            log.error("could not record a rejected request in Postgres: %s", exc)
        await until_done(
            lambda: taken.consumer.reject(raw, reason),
            what="moving a request to the rejected list",
            retry_if=always,
            backoff=self._backoff,
            logger=log,
            event="redis_unavailable",
        )
