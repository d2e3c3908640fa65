"""Reliable intake: take requests from the Redis list; they leave Redis only when acknowledged."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from notifierd.cancelling import cancel_and_wait
from notifierd.intake import claim as worker_claim
from notifierd.intake.claim import WorkerClaim
from notifierd.redisio.held import HeldConnection
from notifierd.redisio.keys import Keys, Scripts

log = logging.getLogger(__name__)

# The rejected list is a convenience for operators (`redis-cli LRANGE`); Postgres holds the
# durable record, so the list keeps only the newest entries instead of growing without bound.
MAX_REJECTED = 10_000
# What a rejection keeps of the raw request, in Redis and in Postgres: enough to see what was
# sent; a 10 MB body stored whole would cost 10 MB per copy for nothing. The size is kept too.
KEPT_RAW_BYTES = 64 * 1024


def default_consumer_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def kept_prefix(raw: bytes) -> bytes:
    """The first ``KEPT_RAW_BYTES`` of a rejected request, cut before a UTF-8 character rather
    than through it (so a text request stays text), or all of it when it is shorter."""
    if len(raw) <= KEPT_RAW_BYTES:
        return raw
    end = KEPT_RAW_BYTES
    while end > KEPT_RAW_BYTES - 3 and raw[end] & 0xC0 == 0x80:  # a continuation byte
        end -= 1
    return raw[:end]


def rejection_record(raw: bytes, reason: str, now: datetime | None = None) -> str:
    """The JSON kept in the rejected list: the raw request (its first ``KEPT_RAW_BYTES``) as
    text, base64 if not UTF-8, and its size in bytes."""
    kept = kept_prefix(raw)
    try:
        text, encoding = kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(kept).decode("ascii"), "base64"
    at = (now or datetime.now(UTC)).isoformat()
    record = {
        "raw": text,
        "encoding": encoding,
        "reason": reason,
        "rejected_at": at,
        "size": len(raw),
        "truncated": len(kept) < len(raw),
    }
    return json.dumps(record, ensure_ascii=False)


class Consumer:
    """One replica's view of one queue: a processing list of its own and a heartbeat.

    Flow: ``start()``, then ``fetch()`` → work → ``ack()`` once the outcome is durable, or
    ``reject()`` for a request that is not valid; ``release()`` what is left on shutdown,
    then ``stop()``. Any replica runs ``recover()`` to requeue what dead consumers held.
    ``producer`` names whose queue it is (None: the default queue, the anonymous producer).
    ``takes`` and ``acks``: the connections its takes and waits, and its acks, are sent on
    (shared by a replica's consumers, see Queues; when not given, its own).
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        consumer_id: str | None = None,
        heartbeat_ttl: float = 15.0,
        *,
        max_rejected: int = MAX_REJECTED,
        producer: str | None = None,
        claim: WorkerClaim | None = None,
        takes: HeldConnection | None = None,
        acks: HeldConnection | None = None,
    ) -> None:
        self.redis = redis
        self._takes = takes or HeldConnection(redis)
        self._acks = acks or HeldConnection(redis)
        self._own_connections = [
            c for c, given in ((self._takes, takes), (self._acks, acks)) if not given
        ]
        self.keys = keys
        self.producer = producer
        # ``claim``: this worker slot's stable id, held while we beat (see intake/claim.py).
        self.claim = claim
        self.id = claim.worker_id if claim else consumer_id or default_consumer_id()
        self.heartbeat_ttl = heartbeat_ttl
        self.max_rejected = max_rejected
        self._scripts = Scripts.register(redis)
        self._processing = keys.processing(self.id)
        self._heartbeat_key = keys.heartbeat(self.id)
        self._handoff = keys.handoff(self.id)
        # raw request -> the order keys the fetch script gave it (one per copy taken)
        self._order_keys: dict[bytes, list[str]] = {}
        self._ttl_ms = max(1, int(heartbeat_ttl * 1000))
        # The heartbeat's value, written with every take: a system call each time otherwise.
        self._host = socket.gethostname()
        self._heartbeat_task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self._heartbeat_task is not None and not self._heartbeat_task.done()

    async def start(self) -> None:
        """Register and beat once before returning, so no replica mistakes us for dead."""
        await self._beat()
        if not self.started:
            self._heartbeat_task = asyncio.create_task(
                self._heartbeat_loop(), name=f"heartbeat:{self.id}"
            )

    async def stop(self) -> None:
        """Stop beating; deregister unless requests remain (recover() requeues them later)."""
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            await cancel_and_wait([task])
        try:
            keys = [self.keys.consumers, self._heartbeat_key, self._processing, self._handoff]
            if not await self._scripts.deregister(keys=keys, args=[self.id]):
                log.warning(
                    "consumer %s stopped holding %d request(s); another replica will recover them",
                    self.id,
                    await self.processing_depth(),
                )
            if self.claim is not None:
                await worker_claim.release(self.redis, self.keys, self.claim, self._scripts)
        finally:
            for connection in self._own_connections:
                await connection.close()

    async def _beat(self) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            # SADD every time: if a replica thought us dead (a long pause) and removed us,
            # we are back in the set before we take anything more.
            pipe.set(self._heartbeat_key, self._host, px=self._ttl_ms)
            pipe.sadd(self.keys.consumers, self.id)
            await pipe.execute()
        claim = self.claim
        if claim is not None and not await worker_claim.renew(
            self.redis, self.keys, claim, self.heartbeat_ttl, self._scripts
        ):
            # Only after our heartbeat lapsed for a whole TTL: the id is still ours to use
            # (our lists are keyed by it), but its claim no longer keeps others off it.
            log.warning("consumer %s lost its worker id claim to another daemon", self.id)

    async def _heartbeat_loop(self) -> None:
        interval = self.heartbeat_ttl / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self._beat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: keep trying; recover() handles the gap
                log.warning("consumer %s heartbeat failed: %s", self.id, exc)

    async def fetch(
        self, max_items: int, timeout: float, ready: Callable[[], bool] | None = None
    ) -> list[bytes]:
        """Up to ``max_items`` requests, oldest first; waits up to ``timeout`` s for the first.

        Requests another consumer holds the order key of go to that consumer instead (see
        keys.FETCH_BATCH), so a fetch may return fewer, or none while the queue is not empty.
        ``ready()`` is asked again after waiting: False then takes nothing (the caller filled
        up meanwhile; what the wait's take took goes back, to be taken next). The Redis
        client's socket timeout must be longer than ``timeout`` (the default client has none).
        """
        if not self.started:
            raise RuntimeError("Consumer.start() must be called before fetch()")
        if max_items < 1:
            return []
        if timeout <= 0:
            return await self.take(max_items)
        # Not a take first and a wait only when it found nothing: on a queue with something in
        # it the wait returns at once and its take takes, so the pair is the take plus a no-op;
        # on an empty queue (every request at a steady rate) the take first is a round trip
        # that finds nothing, ~110 µs of a worker's CPU per request (bench/README.md). A request
        # another consumer hands us while we wait is taken when the wait ends (its timeout),
        # as it was when it came during a wait before: the wait watches the queue alone.
        batch = await self.wait_and_take(max_items, timeout)
        if batch and ready is not None and not ready():
            await self.release(batch)
            return []
        return batch

    async def wait_and_take(self, n: int, timeout: float) -> list[bytes]:
        """``wait(timeout)`` then ``take(n)`` in one round trip: the take is pipelined behind
        the blocking wait on the same connection, so Redis runs it the moment the wait ends
        (something arrived, or the timeout), and a request that arrives at an idle consumer
        is taken without a second trip. Requires ``start()``."""
        keys, args = self._take_arguments(n)
        script = self._scripts.fetch_batch
        blocks_for = max(timeout, 0.01)  # Redis takes fractional seconds; 0 would block forever
        woke, flat = await self._takes.call(
            ("BLMOVE", self.keys.queue, self.keys.queue, "RIGHT", "RIGHT", blocks_for),
            ("EVALSHA", script.sha, len(keys), *keys, *args),
            blocks_for=blocks_for,
        )
        if isinstance(woke, Exception):
            raise woke
        if isinstance(flat, NoScriptError):  # Redis restarted and forgot it: load it, take
            return await self.take(n)
        if isinstance(flat, Exception):
            raise flat
        return self._taken(flat)

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the queue to hold something; True when it does.

        BLMOVE from the list's right end back onto it is a no-op that blocks until there is
        something. Taking stays in the script, which alone decides (atomically) who owns a
        request's order key. 0 would block forever, so every wait is bounded; Redis takes
        fractional seconds (the type stub says int).
        """
        woke = await self.redis.blmove(
            self.keys.queue,
            self.keys.queue,
            max(timeout, 0.01),  # type: ignore[arg-type]
            "RIGHT",
            "RIGHT",
        )
        return woke is not None

    async def take(self, n: int) -> list[bytes]:
        """Up to ``n`` requests without waiting (see ``fetch``); requires ``start()``."""
        keys, args = self._take_arguments(n)
        return self._taken(await _run(self._takes, self._scripts.fetch_batch, keys, args))

    def _take_arguments(self, n: int) -> tuple[list[str], list[str | int]]:
        """FETCH_BATCH's KEYS and ARGV for taking up to ``n``."""
        keys = [
            self.keys.queue,
            self._processing,
            self.keys.consumers,
            self._heartbeat_key,
            self._handoff,
        ]
        args: list[str | int] = [
            n,
            self.id,
            self._ttl_ms,
            self._host,
            self.keys.owner_prefix,
            self.keys.handoff_prefix,
        ]
        return keys, args

    def _taken(self, flat: list[bytes]) -> list[bytes]:
        """FETCH_BATCH's answer: the items, each order key noted for its ack."""
        items: list[bytes] = flat[0::2]
        for item, key in zip(items, flat[1::2], strict=True):
            self._order_keys.setdefault(item, []).append(key.decode())
        return items

    def _with_keys(self, raws: Sequence[bytes]) -> list[bytes | str]:
        """``raws`` each followed by the order key the fetch script gave it ('?': not known, as
        for a request taken before a restart; the script then decodes it)."""
        args: list[bytes | str] = []
        for raw in raws:
            known = self._order_keys.get(raw)
            args += [raw, known[0] if known else "?"]
        return args

    def _forget_keys(self, raws: Sequence[bytes]) -> None:
        for raw in raws:
            known = self._order_keys.get(raw)
            if known:
                known.pop(0)
                if not known:
                    del self._order_keys[raw]

    async def ack(self, raws: Sequence[bytes]) -> int:
        """Forget requests whose outcome is durable; returns how many were still held."""
        if not raws:
            return 0
        args = [self.id, self.keys.owner_prefix, *self._with_keys(raws)]
        removed = int(await _run(self._acks, self._scripts.ack, [self._processing], args))
        self._forget_keys(raws)
        if removed < len(raws):
            # recover() took them back while we worked (our heartbeat lapsed): they will be
            # processed again, and idempotency keeps that from delivering twice.
            log.warning(
                "consumer %s acknowledged %d request(s) another replica had already requeued",
                self.id,
                len(raws) - removed,
            )
        return removed

    async def release(self, raws: Sequence[bytes]) -> int:
        """Give unprocessed requests back, to be taken next (graceful shutdown), and with them
        every request other consumers handed to us that we had not taken yet."""
        keys = [self._processing, self.keys.queue, self._handoff]
        args = [self.id, self.keys.owner_prefix, *self._with_keys(raws)]
        released = int(await self._scripts.release(keys=keys, args=args))
        self._forget_keys(raws)
        return released

    async def reject(self, raw: bytes, reason: str) -> None:
        """Move an invalid request to the rejected list with the reason (the caller records it)."""
        await self._scripts.reject(
            keys=[self.keys.rejected, self._processing],
            args=[
                self.id,
                self.keys.owner_prefix,
                raw,
                rejection_record(raw, reason),
                self.max_rejected,
                self._with_keys([raw])[1],
            ],
        )
        self._forget_keys([raw])

    async def stamp(self, pairs: Sequence[tuple[bytes, bytes]]) -> list[bool]:
        """Replace each held ``(raw, stamped)`` raw by its stamped form (the request with the id
        it was given); False for one no longer held, which this consumer must not process."""
        if not pairs:
            return []
        args = [item for pair in pairs for item in pair]
        replaced = await self._scripts.stamp(keys=[self._processing], args=args)
        for (raw, stamped), done in zip(pairs, replaced, strict=True):
            known = self._order_keys.get(raw)
            if done and known:
                key = known.pop(0)
                if not known:
                    del self._order_keys[raw]
                # None taken without an id ('') goes as '?': decoded at its ack, the stamped
                # copy names its id's key, which it owns if it was taken again after recovery.
                self._order_keys.setdefault(stamped, []).append(key or "?")
            elif not done:
                self._forget_keys([raw])  # not ours any more: never acknowledged here
        return [bool(done) for done in replaced]

    async def pending(self, consumer_id: str | None = None) -> list[bytes]:
        """What a consumer holds, oldest first: ours after a restart with the same id."""
        key = self.keys.processing(consumer_id) if consumer_id else self._processing
        items: list[bytes] = await self.redis.lrange(key, 0, -1)  # type: ignore[assignment]
        return items[::-1]

    async def return_own(self) -> int:
        """At start: put back what this consumer id held when it last stopped (a restart with
        the same ``consumer_id``), handed-over requests too, and give up its keys."""
        moved = await _recover_one(self.redis, self.keys, self._scripts, self.id, force=True)
        if self.started:
            # Recovering the id deregistered it; this consumer is here. Its first take would
            # register it again too, but a worker that polls takes only when it sees something.
            await self._beat()
        return moved

    async def recover(self) -> int:
        return await recover(self.redis, self.keys, self._scripts)

    async def queue_depth(self) -> int:
        return int(await self.redis.llen(self.keys.queue))

    async def processing_depth(self) -> int:
        return int(await self.redis.llen(self._processing))

    async def rejected_depth(self) -> int:
        return int(await self.redis.llen(self.keys.rejected))


async def _run(
    connection: HeldConnection, script: AsyncScript, keys: list[str], args: Sequence[Any]
) -> Any:
    """A script by its hash on ``connection``; one Redis forgot (restarted) is loaded first."""
    [reply] = await connection.call(("EVALSHA", script.sha, len(keys), *keys, *args))
    if isinstance(reply, NoScriptError):
        return await script(keys=keys, args=args)
    if isinstance(reply, Exception):
        raise reply
    return reply


async def recover(redis: Redis, keys: Keys, scripts: Scripts | None = None) -> int:
    """Requeue everything held by this queue's consumers whose heartbeat is gone; returns how
    many items. Consumers of other queues are not looked at: their requests are not ours.

    Safe to run on every replica at once: each dead consumer's lists move in one script.
    """
    scripts = scripts or Scripts.register(redis)
    total = 0
    for member in await redis.smembers(keys.consumers):
        consumer_id = member.decode() if isinstance(member, bytes) else str(member)
        moved = await _recover_one(redis, keys, scripts, consumer_id, force=False)
        if moved > 0:
            log.warning("recovered %d request(s) from dead consumer %s", moved, consumer_id)
        total += max(moved, 0)
    return total


async def _recover_one(
    redis: Redis, keys: Keys, scripts: Scripts, consumer_id: str, *, force: bool
) -> int:
    return int(
        await scripts.recover(
            keys=[
                keys.consumers,
                keys.heartbeat(consumer_id),
                keys.processing(consumer_id),
                keys.queue,
                keys.handoff(consumer_id),
            ],
            args=[consumer_id, "1" if force else "0", keys.owner_prefix],
        )
    )
