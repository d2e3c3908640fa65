"""Every queue a replica consumes: the default one and each producer's own, taken from in turn.

A producer with ``queue: true`` pushes onto ``<queue>:<producer>`` (``Keys.producer_queue``); a
Redis ACL can let it push there and nowhere else, so the list a request came from says whose it
is. Each queue has its own ``Consumer`` (its processing list, heartbeat, consumer registry and
order keys), so everything the single-queue intake guarantees holds per queue, and recovery puts
a request back on the queue it came from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from redis.asyncio import Redis

from notifierd.cancelling import cancel_and_wait
from notifierd.config.model import ANONYMOUS_PRODUCER, Snapshot
from notifierd.intake.claim import WorkerClaim
from notifierd.intake.consumer import Consumer, default_consumer_id
from notifierd.redisio.held import HeldConnection
from notifierd.redisio.keys import Keys
from notifierd.valueclass import value_class

log = logging.getLogger("notifierd.intake")


def producer_queues(snapshot: Snapshot) -> list[str]:
    """The producers with a queue of their own; the anonymous one's is the default queue."""
    return [p.id for p in snapshot.producers.values() if p.queue and p.id != ANONYMOUS_PRODUCER]


@value_class
class Taken:
    """A request as taken: its raw bytes and the consumer it is to be acknowledged on."""

    raw: bytes
    consumer: Consumer


class Queues:
    """``start()``; ``follow(producers)`` whenever the config may have changed; ``fetch()``
    takes from every queue fairly; ``stop()`` at the end.

    A producer queue dropped from the config stops being taken from at once; its consumer is
    *retired*: what it holds is finished and acknowledged, then ``close_retired`` stops it. The
    list itself is left as it is, for the operator: a queue with requests on it is never deleted.
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        consumer_id: str | None = None,
        heartbeat_ttl: float = 15.0,
        *,
        claim: WorkerClaim | None = None,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.heartbeat_ttl = heartbeat_ttl
        # Two connections for every queue: the intake takes (and waits) in turn, the recorder
        # acknowledges in turn, so however many producer queues there are, two suffice.
        self._takes = HeldConnection(redis)
        self._acks = HeldConnection(redis)
        # The worker slot's claim, renewed by the default queue's heartbeat; the producer
        # queues' consumers derive their ids from that one, so they are stable too.
        self.default = Consumer(
            redis,
            keys,
            consumer_id or default_consumer_id(),
            heartbeat_ttl,
            claim=claim,
            takes=self._takes,
            acks=self._acks,
        )
        self._producers: dict[str, Consumer] = {}
        self.retired: list[Consumer] = []
        self._turn = 0  # which queue a fetch asks first: each one in turn
        # A wait on one queue outlives the fetch that started it when another queue woke
        # first; the next fetch waits on it again instead of starting a second one.
        self._waits: dict[Consumer, asyncio.Task[bool]] = {}

    @property
    def consumers(self) -> list[Consumer]:
        """The consumers taken from: the default queue's first."""
        return [self.default, *self._producers.values()]

    @property
    def holding(self) -> list[Consumer]:
        """Every consumer that may hold requests: those taken from and the retired ones."""
        return [*self.consumers, *self.retired]

    def consumer(self, producer: str) -> Consumer:
        """A producer queue's consumer: ``<replica id>/<producer>``, its own processing list."""
        return Consumer(
            self.redis,
            self.keys.of_producer(producer),
            f"{self.default.id}/{producer}",
            self.heartbeat_ttl,
            producer=producer,
            takes=self._takes,
            acks=self._acks,
        )

    async def start(self, producers: Iterable[str] = ()) -> int:
        """Start consuming the default queue and these producers' queues; returns how many
        requests went back onto their queues (dead consumers', and our own id's of last time)."""
        recovered = await self._start(self.default)
        recovered += await self.follow(producers)
        return recovered

    async def _start(self, consumer: Consumer) -> int:
        await consumer.start()
        return await consumer.recover() + await consumer.return_own()

    async def follow(self, producers: Iterable[str]) -> int:
        """Consume exactly these producers' queues (besides the default one); returns how
        many requests the queues started went back onto them (see ``start``)."""
        wanted = set(producers)
        recovered = 0
        for producer in sorted(wanted - self._producers.keys()):
            consumer = self.consumer(producer)
            recovered += await self._start(consumer)
            self._producers[producer] = consumer
            log.info(
                "consuming producer %s's queue %s",
                producer,
                consumer.keys.queue,
                extra={"event": "producer_queue_added"},
            )
        for producer in sorted(self._producers.keys() - wanted):
            consumer = self._producers.pop(producer)
            self.retired.append(consumer)
            left = await consumer.queue_depth()
            log.warning(
                "producer %s's queue %s is no longer consumed; %d request(s) left on it",
                producer,
                consumer.keys.queue,
                left,
                extra={"event": "producer_queue_removed"},
            )
        return recovered

    async def close_retired(self, busy: Callable[[Consumer], bool]) -> None:
        """Stop each retired consumer nothing is ``busy`` with any more: what other replicas
        handed to it goes back onto its queue, then it leaves the queue's registry."""
        for consumer in [c for c in self.retired if not busy(c)]:
            self.retired.remove(consumer)
            wait = self._waits.pop(consumer, None)
            if wait is not None:
                wait.cancel()
            await consumer.release([])
            await consumer.stop()

    async def fetch(
        self, max_items: int, timeout: float, ready: Callable[[], bool] | None = None
    ) -> list[Taken]:
        """Up to ``max_items`` requests from all queues (see ``Consumer.fetch``).

        Each queue may take an equal share first, the first asked changing every fetch, so a
        flood on one queue cannot starve another; what a share leaves goes to the queues that
        have more. Waits (up to ``timeout`` s) on every queue at once when all are empty.
        """
        if not self._producers:  # the common case: one queue, one Redis call
            raws = await self.default.fetch(max_items, timeout, ready)
            return [Taken(raw, self.default) for raw in raws]
        if max_items < 1:
            return []
        taken = await self._take_in_turn(max_items)
        if taken or timeout <= 0:
            return taken
        if not await self._wait_any(timeout) or (ready is not None and not ready()):
            return []
        return await self._take_in_turn(max_items)

    async def _take_in_turn(self, max_items: int) -> list[Taken]:
        consumers = self.consumers
        self._turn = (self._turn + 1) % len(consumers)
        order = consumers[self._turn :] + consumers[: self._turn]
        share = -(-max_items // len(order))
        taken: list[Taken] = []
        more = order
        while more and len(taken) < max_items:
            still = []
            for consumer in more:
                want = min(share, max_items - len(taken))
                if want < 1:
                    break
                raws = await consumer.take(want)
                taken += [Taken(raw, consumer) for raw in raws]
                if len(raws) == want:  # it may hold more
                    still.append(consumer)
            more = still
        return taken

    async def _wait_any(self, timeout: float) -> bool:
        for consumer in self.consumers:
            if consumer not in self._waits:
                self._waits[consumer] = asyncio.create_task(
                    consumer.wait(timeout), name=f"wait:{consumer.keys.queue}"
                )
        done, _ = await asyncio.wait(
            list(self._waits.values()), timeout=timeout + 1, return_when=asyncio.FIRST_COMPLETED
        )
        woke = False
        for consumer, task in list(self._waits.items()):
            if task in done:
                del self._waits[consumer]
                woke = woke or (not task.cancelled() and task.exception() is None and task.result())
        return woke

    async def release_handed(self) -> None:
        """Put back onto their queues the requests other replicas handed to ours (shutdown)."""
        for consumer in self.holding:
            await consumer.release([])

    async def stop(self) -> None:
        await cancel_and_wait(self._waits.values())
        self._waits.clear()
        try:
            for consumer in self.holding:
                await consumer.stop()
        finally:
            await self._takes.close()
            await self._acks.close()

    async def recover(self) -> int:
        """Requeue, each onto its own queue, what the dead consumers of every queue held."""
        return sum([await c.recover() for c in self.consumers])

    async def anything_to_take(self) -> bool:
        """Whether a take could find something: a queue or a hand-off list of ours not empty.
        Read-only, one round trip: a worker that polls asks this first, as a take writes (it
        registers and beats), which every replica and the AOF would see 50 times a second."""
        lengths = await self._takes.call(
            *(("LLEN", key) for c in self.consumers for key in (c.keys.queue, c.keys.handoff(c.id)))
        )
        for length in lengths:
            if isinstance(length, Exception):
                raise length
        return any(lengths)

    async def queue_depth(self) -> int:
        """Requests waiting on every queue consumed."""
        return sum([await c.queue_depth() for c in self.consumers])
