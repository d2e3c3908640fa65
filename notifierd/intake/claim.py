"""Stable worker ids: each worker slot's consumer id, claimed in Redis by the slot's supervisor.

A worker killed outright leaves its processing list behind, and its heartbeat lives on for the
heartbeat TTL. The worker started in its place claims the same id (``<host>-w<slot>``), so at
start it takes its own list back at once (``Consumer.return_own``) instead of waiting for
another replica to see the heartbeat expire. The claim belongs to the supervisor, so a second
daemon on the same host cannot take the id: it is refused and runs under a random id.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from redis.asyncio import Redis

from notifierd.options import WorkerSlot
from notifierd.redisio.keys import Keys, Scripts

log = logging.getLogger("notifierd.intake")


@dataclass(frozen=True, slots=True)
class WorkerClaim:
    """A worker id held in Redis for ``owner``; the consumer's heartbeat renews it."""

    worker_id: str
    owner: str


def slot_worker_id(slot: WorkerSlot, host: str | None = None) -> str:
    return f"{host or socket.gethostname()}-w{slot.index}"


async def claim_worker_id(
    redis: Redis, keys: Keys, slot: WorkerSlot, ttl: float, host: str | None = None
) -> WorkerClaim | None:
    """The slot's id if it is free or already the slot owner's; None when another daemon holds
    it (the worker then takes a random id)."""
    worker_id = slot_worker_id(slot, host)
    claim = WorkerClaim(worker_id, slot.owner)
    if await renew(redis, keys, claim, ttl):
        return claim
    log.warning("worker id %s is held by another daemon on this host; using a random id", worker_id)
    return None


async def renew(
    redis: Redis, keys: Keys, claim: WorkerClaim, ttl: float, scripts: Scripts | None = None
) -> bool:
    """Claim or extend for ``ttl`` seconds; False if another owner holds the id."""
    scripts = scripts or Scripts.register(redis)
    claimed = await scripts.claim_worker_id(
        keys=[keys.worker_claim(claim.worker_id)],
        args=[claim.owner, max(1, int(ttl * 1000))],
    )
    return bool(claimed)


async def release(
    redis: Redis, keys: Keys, claim: WorkerClaim, scripts: Scripts | None = None
) -> None:
    """Give the id up at a clean stop: free for whichever daemon starts next."""
    scripts = scripts or Scripts.register(redis)
    await scripts.release_worker_id(keys=[keys.worker_claim(claim.worker_id)], args=[claim.owner])
