"""Deliveries held for a digest in Postgres: which are waiting, claiming them, and recording
the digest with its originals in one transaction (migration 0014, queries/digests.sql)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from notifierd.status import COMPLETE_AT_FIRST_WRITE, DeliveryStatus
from notifierd.store.queries import q


@dataclass(frozen=True, slots=True)
class HeldDelivery:
    """A delivery set aside for a digest: its line is its title and when its request came."""

    id: uuid.UUID
    title: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DigestRecord:
    """The digest delivery, as its one attempt left it."""

    id: uuid.UUID
    request_id: str
    payload: str  # the digest's request as JSON: the retrier resends from it and `rendered`
    channel: str
    channel_type: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    error: str | None
    latency_ms: float | None
    rendered: str
    provider_id: str | None
    snapshot_id: str
    next_attempt_at: datetime | None
    received_at: datetime


async def release_held(pool: asyncpg.Pool, digesting: Sequence[str]) -> int:
    """Make the held deliveries of channels other than ``digesting`` due retries; how many."""
    done = await pool.execute(q("release_held"), list(digesting))
    return int(done.split()[-1])


async def held_recipients(pool: asyncpg.Pool, channel: str) -> list[str]:
    return [r["recipient"] for r in await pool.fetch(q("held_recipients"), channel)]


@asynccontextmanager
async def claimed_held(
    pool: asyncpg.Pool, channel: str, recipient: str, limit: int
) -> AsyncIterator[tuple[asyncpg.Connection, list[HeldDelivery]]]:
    """The held deliveries of one channel and recipient, locked for this transaction; leaving
    the block commits what was written on the connection, an exception rolls all of it back."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(q("claim_held"), channel, recipient, limit)
        yield conn, [HeldDelivery(r["id"], r["title"] or "(untitled)", r["at"]) for r in rows]


async def record_digest(
    conn: asyncpg.Connection, digest: DigestRecord, originals: Sequence[uuid.UUID]
) -> None:
    """The digest delivery and its request, and each original ``digested`` into it."""
    await conn.execute(
        q("insert_digest_request"),
        digest.request_id,
        digest.payload,
        digest.snapshot_id,
        digest.received_at,
    )
    note = f"a digest of {len(originals)} notification(s) held by the rate limit"
    await conn.execute(
        q("insert_digest_delivery"),
        digest.id,
        digest.request_id,
        digest.channel,
        digest.channel_type,
        digest.recipient,
        digest.status,
        digest.attempts,
        digest.error,
        digest.latency_ms,
        note,
        digest.rendered,
        digest.provider_id,
        digest.snapshot_id,
        digest.next_attempt_at,
    )
    if digest.status not in COMPLETE_AT_FIRST_WRITE:
        await conn.execute(
            q("insert_digest_event"),
            digest.id,
            digest.status,
            digest.attempts,
            digest.error,
            digest.latency_ms,
        )
    if digest.status == DeliveryStatus.DEAD:
        await conn.execute(
            q("insert_digest_dead_letter"),
            digest.id,
            digest.request_id,
            digest.channel,
            digest.recipient,
            digest.error,
            digest.attempts,
        )
    await conn.execute(
        q("mark_digested"), list(originals), digest.id, f"sent in digest {digest.id}"
    )
